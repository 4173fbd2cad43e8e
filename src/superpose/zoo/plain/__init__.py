"""Plain-torch files copied into every zoo export (model.py, sampler.py): they import only torch
and safetensors, so an export loads without superpose."""
