"""ttdialect: the tt dialect (types, ops, verifiers), its reference interpreter, numerics, weights,
the importers and the shared IR helpers: the bottom layer of tt (passes, lowering and the tt
package with the API and tools build on it; nothing here imports them)."""
