"""Housing Price API: the HTTP service.

One BLAS/OpenMP thread per process, set before numpy or scikit-learn load:
server workers are the unit of parallelism, and unpinned thread pools in
several workers fight over the cores (histogram gradient boosting under two
Gunicorn workers collapses from thousands of requests/s to tens). The
lifespan pins again with threadpoolctl, for pools already started.
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
