"""codegen_ray: which training data, and which checkpoint, writes better programs?"""

__version__ = "0.1.0"
