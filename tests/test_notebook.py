"""The walkthrough notebook executes top to bottom on a small demo set."""

import re

import nbformat
import pytest
from conftest import ROOT, TRAINING
from nbclient import NotebookClient

import leadml

NOTEBOOK = ROOT / "notebooks" / "01-train-and-explain.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.slow
def test_notebook_executes_on_small_data(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADML_NOTEBOOK_LEADS", "4000")
    monkeypatch.setenv("LEADML_TRAINING_DIR", str(TRAINING))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    text = "\n".join(
        out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert "4,000 leads" in text
    assert "roc_auc" in text and "oracle" in text
    assert "probability" in text and "points" in text
    # logged to MLflow, and the registered model reloads with the same numbers
    assert "MLflow run " in text and "leadml-sql version 1 (challenger)" in text
    assert "registered model gives the same probabilities: True" in text
    assert "open leads scored" in text
    # the reliability, gains and SHAP figures are shown
    images = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if "image/png" in out.get("data", {})
    ]
    assert len(images) >= 3
    # only the public API: no reaching into leadml's modules
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "from leadml" not in sources and "import leadml." not in sources
    used = set(re.findall(r"\bleadml\.(\w+)", sources))
    assert {"train_model", "evaluate_model", "explain_leads", "score_leads"} <= used
    assert used <= set(leadml.__all__), used - set(leadml.__all__)
    assert not any(
        out.get("output_type") == "error"
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
