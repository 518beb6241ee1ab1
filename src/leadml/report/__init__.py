"""Lead cards for sales reps: the scored queue as one self-contained HTML page."""

from leadml.report.build import build_report, report_payload, scored_queue, waterfall

__all__ = ["build_report", "report_payload", "scored_queue", "waterfall"]
