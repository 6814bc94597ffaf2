"""open_clip architecture configs that ship with sklearn_pos.

Each ``*.json`` file here is an open_clip model config (``embed_dim``, ``vision_cfg``,
``text_cfg``); the file name without its suffix is the model name. They are registered
with open_clip the first time a model is loaded, never at import.
"""
