"""Fast exact kernels over LightGBM's text model: raw scores (``fastpredict``) and TreeSHAP (``fastshap``)."""
