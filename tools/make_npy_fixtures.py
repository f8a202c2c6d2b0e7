"""Writes spec/fixtures/npy/: small arrays saved by NumPy itself, to check lib/features/npy.ts against the real format.
Run from the repository root: python3 tools/make_npy_fixtures.py (then regenerate SHA256SUMS in that folder)."""
import json
import numpy as np

out = 'spec/fixtures/npy/'
a = (np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5) / 3
np.save(out + 'f4_3x4.npy', a)
np.save(out + 'f4_5.npy', np.array([0.0, -1.5, 3.25, 1e-8, -7e12], dtype=np.float32))
np.save(out + 'f4_0x7.npy', np.zeros((0, 7), dtype=np.float32))
np.save(out + 'f8_2x2.npy', np.eye(2))
np.save(out + 'f4_fortran_2x3.npy', np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(out + 'f4_2x2x2.npy', np.zeros((2, 2, 2), dtype=np.float32))
np.lib.format.write_array(open(out + 'f4_v2_2x2.npy', 'wb'), np.ones((2, 2), dtype=np.float32), version=(2, 0))
json.dump({'f4_3x4': a.astype(float).ravel().tolist()}, open(out + 'values.json', 'w'))
