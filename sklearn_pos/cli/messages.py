"""Library messages in command-line terms.

The library speaks of parameters (``pretrained=None``, ``model_name='RN50'``);
the command's user types options (``--pretrained none``, ``--model RN50``).
These functions rewrite the first into the second, so that what a message
suggests can be typed as it reads.
"""

import re

__all__ = ["as_typed", "weights_message"]


def as_typed(text):
    """A library message with its arguments spelled as options on the command line.

    Parameters
    ----------
    text : str
        A message of the library.

    Returns
    -------
    text : str
        The message, with ``pretrained=None`` read as ``--pretrained none``,
        ``pretrained='X'`` as ``--pretrained X`` and ``model_name='X'`` as
        ``--model X``.

    Examples
    --------
    >>> from sklearn_pos.cli.messages import as_typed
    >>> as_typed("Pass model_name='RN50' or pretrained=None.")
    'Pass --model RN50 or --pretrained none.'
    """
    text = re.sub(r"\bpretrained=None\b", "--pretrained none", text)
    text = re.sub(r"\bor None for random weights", "or --pretrained none for random "
                  "weights", text)  # fmt: skip
    text = re.sub(r"\bpretrained='([^']*)'", r"--pretrained \1", text)
    text = re.sub(r"\bmodel_name='([^']*)'", r"--model \1", text)
    return re.sub(r"\bthe model_name\b", "the --model", text)


def weights_message(model, pretrained, exc, backend="open_clip"):
    """One paragraph for weights that cannot be obtained, in command-line terms.

    Parameters
    ----------
    model : str
        The ``--model`` given.
    pretrained : str
        The ``--pretrained`` given, as typed (``"none"`` for random weights).
    exc : WeightsUnavailableError
        The library's error; its ``reason`` attribute, when set, is quoted.
    backend : {"open_clip", "transformers"}, default="open_clip"
        The ``--backend`` given: a transformers ``--model`` is a hub id or a
        folder, and ``pretrained`` is not used.

    Returns
    -------
    message : str
        What went wrong and how to give the weights from a local copy.

    Examples
    --------
    >>> from sklearn_pos import WeightsUnavailableError
    >>> from sklearn_pos.cli.messages import weights_message
    >>> exc = WeightsUnavailableError("offline", reason="no network")
    >>> weights_message("ViT-B-32", "openai", exc)[:78]
    'the weights for --model ViT-B-32 --pretrained openai could not be obtained (no'
    """
    reason = f" ({exc.reason})" if exc.reason else ""
    if backend == "transformers":
        return (
            f"the transformers model --model {model} could not be obtained{reason}. "
            "Hub models are downloaded on first use and then cached, and this "
            "machine cannot download it. Give a local copy instead: --model "
            "/path/to/folder, a folder written by save_pretrained for the model and "
            "its processor (weights as .safetensors). To make one, run once on a "
            'machine with internet access: python -c "from transformers import '
            f"AutoModel, AutoProcessor; AutoModel.from_pretrained('{model}')"
            ".save_pretrained('folder', safe_serialization=True); "
            f"AutoProcessor.from_pretrained('{model}').save_pretrained('folder')"
            '", then copy the folder over. Set HF_HUB_OFFLINE=1 to fail at once '
            "instead of waiting for the network."
        )
    base = model[: -len("-quickgelu")] if model.endswith("-quickgelu") else model
    quick_gelu = (
        f"; OpenAI's weights need --model {base}-quickgelu with a file"
        if pretrained == "openai"
        else ""
    )
    return (
        f"the weights for --model {model} --pretrained {pretrained} could not be "
        f"obtained{reason}. They are downloaded on first use and then cached, and "
        "this machine cannot download them. Give a local copy instead: "
        "--pretrained /path/to/checkpoint.pt (an open_clip checkpoint file of the "
        f"--model architecture{quick_gelu}), or --pretrained "
        "local-dir:/path/to/folder (a folder with "
        "open_clip_config.json and the weights). To get the file, run once on a "
        'machine with internet access: python -c "import open_clip; '
        f"open_clip.create_model('{base}', pretrained='{pretrained}')\", then copy "
        "the downloaded file from ~/.cache/huggingface/hub (or point HF_HOME at a "
        "copy of that cache). For a smoke test without any download use --model "
        "sklearn-pos-tiny --pretrained none (random weights)."
    )
