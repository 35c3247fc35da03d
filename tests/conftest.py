import os

import matplotlib

# Tests never open windows, and every figure is written through the Agg backend.
matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
