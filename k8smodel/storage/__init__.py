"""Storage: quantities, PV/PVC binding, bin packing with attach limits, manifest loading."""
