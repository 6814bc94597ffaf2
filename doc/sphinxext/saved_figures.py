"""An image scraper for sphinx-gallery that collects the PNG files examples save.

The examples save each figure with ``savefig`` and close it, so matplotlib's
scraper, which collects open figures, finds none. They write their files to
the folder named by ``SKLEARN_POS_EXAMPLE_OUTPUT``; this scraper copies the
files written or rewritten since the previous code block into the gallery.
"""

import shutil
from pathlib import Path


class SavedFigureScraper:
    """Collect the PNG files written under ``folder`` since the last call."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        # Files left by an earlier build belong to no example of this one.
        self.seen = {png: png.stat().st_mtime_ns for png in self.folder.rglob("*.png")}

    def __repr__(self):
        # sphinx-gallery compares configurations by repr to decide on reruns.
        return f"SavedFigureScraper({str(self.folder)!r})"

    def __call__(self, block, block_vars, gallery_conf):
        from sphinx_gallery.scrapers import figure_rst

        new = []
        for png in sorted(self.folder.rglob("*.png")):
            stamp = png.stat().st_mtime_ns
            if self.seen.get(png) != stamp:
                self.seen[png] = stamp
                new.append(png)
        paths = []
        for png, target in zip(new, block_vars["image_path_iterator"]):
            shutil.copyfile(png, target)
            paths.append(target)
        return figure_rst(paths, gallery_conf["src_dir"])
