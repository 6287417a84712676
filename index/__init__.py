"""The retrieval engine: articles in, ranked quotable passages out. No Telegram code."""

import os

# OpenMP reads its wait policy once, when the first library that brings it (faiss, torch) is
# loaded, so it is set here, before any module of the engine imports them. Waiting threads
# then sleep instead of spinning: one exact kNN over 12k passages took 16 ms wall and 18 CPU-ms
# with spinning threads on this 2-core machine, 5 ms and 3.6 CPU-ms with sleeping ones.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
