"""Embed a whole collection to Parquet, resumably, in one process or on Dask.

:func:`embed_collection` (the ``sklearn-pos embed`` command) cuts a source
(a folder of images, a text file, a Parquet or CSV column) into partitions,
embeds each with the :class:`~sklearn_pos.CLIPEmbedder` it is given (a clone
per process) and writes it as one Parquet file, atomically; :func:`read_embeddings` reads the folder back.

- :mod:`._source`: the items of a source, in order;
- :mod:`._manifest`: the partitions and the manifest that makes reruns safe;
- :mod:`._partition`: one partition, embedded and written (the task), and
  the embedder's description, computed where the model runs;
- :mod:`._verify`: partitions checked when read back (digest, pages, rows);
- :mod:`._lock`: one job at a time per output folder;
- :mod:`._execute`: where tasks run (this process, a Dask cluster);
- :mod:`._run`, :mod:`._read`: the two public functions.

pyarrow (to write and read Parquet) and Dask (``scheduler="local:N"`` or an
address) are imported when a job runs, so ``import sklearn_pos`` works
without them: ``pip install "sklearn_pos[distributed]"`` adds both.
"""

from ._lock import OutputLockedError
from ._manifest import ManifestMismatchError
from ._partition import EmbedItemError
from ._read import read_embeddings
from ._run import embed_collection
from ._source import SourceError
from ._verify import DamagedOutputError

__all__ = [
    "DamagedOutputError",
    "EmbedItemError",
    "ManifestMismatchError",
    "OutputLockedError",
    "SourceError",
    "embed_collection",
    "read_embeddings",
]
