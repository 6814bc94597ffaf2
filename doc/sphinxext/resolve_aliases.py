"""Resolve references to sklearn_pos objects by the names users know.

An object is documented once, under the name users import it by:
``sklearn_pos.clip_nce_loss`` rather than ``sklearn_pos.counterfactual.clip_nce_loss``.
Docstrings refer to some objects by their defining module, and to module
constants or methods by their bare names (``CLAP_STYLES``,
``predict_proba``). A reference that Sphinx cannot resolve is looked up here
among the documented sklearn_pos objects: by its last component under
``sklearn_pos`` and the public submodules, then as a method or attribute of a
documented class; it resolves when exactly one object matches. Anything else
stays unresolved and fails the nitpicky build.
"""

from sphinx.util.nodes import make_refnode


def _candidates(target, objects):
    if not (target.startswith("sklearn_pos.") or "." not in target or
            target.count(".") == 1):
        return []
    last = target.rsplit(".", 1)[-1]
    tail = target.split("sklearn_pos.", 1)[-1]
    found = set()
    for full in objects:
        if not full.startswith("sklearn_pos."):
            continue
        if full.rsplit(".", 1)[-1] != last:
            continue
        # sklearn_pos.NAME, sklearn_pos.module.NAME, sklearn_pos.Class.NAME
        if full.endswith("." + tail) or full.count(".") <= 2:
            found.add(full)
    return sorted(found)


def resolve(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    domain = env.get_domain("py")
    objects = domain.objects
    matches = _candidates(target, objects)
    # Prefer an object of the class the reference was written in.
    context = node.get("py:class")
    if len(matches) > 1 and context:
        own = [m for m in matches if m.split(".")[-2] == context.split(".")[-1]]
        if len(own) == 1:
            matches = own
    if len(matches) != 1:
        return None
    entry = objects[matches[0]]
    return make_refnode(
        app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, matches[0]
    )


def skip_metadata_requests(app, what, name, obj, skip, options):
    # scikit-learn generates set_{fit,predict,...}_request on every estimator;
    # its own documentation explains them (metadata routing).
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("missing-reference", resolve)
    app.connect("autodoc-skip-member", skip_metadata_requests)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
