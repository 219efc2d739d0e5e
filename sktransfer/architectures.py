"""What differs between Hugging Face model architectures, kept in one place (model-level code, no sklearn).

The estimators work with any ``AutoModel`` encoder (BERT, RoBERTa, DistilBERT, ALBERT, ELECTRA,
DeBERTa-v2, XLM-RoBERTa, ...) and with decoder-only models (GPT-2 and its kin). What they need to
know about an architecture is answered here:

- the padding token: decoder-only tokenizers often have none (:func:`ensure_pad_token`);
- whether the model reads left to right only (:func:`is_decoder_only`), which decides the default
  pooling (:func:`default_pooling`);
- whether position 0 holds a summary token such as [CLS] or <s> (:func:`cls_pooling_problem`);
- where the transformer blocks are, for ``train_layers`` (:func:`transformer_blocks`).
"""

__all__ = [
    "cls_pooling_problem",
    "default_pooling",
    "ensure_pad_token",
    "is_decoder_only",
    "modules_after_blocks",
    "resolve_pooling",
    "transformer_blocks",
]

# Attribute paths of the list of transformer blocks, by layout (the first that exists wins):
# BERT, RoBERTa, ELECTRA, DeBERTa(-v2), XLM-R: encoder.layer; DistilBERT: transformer.layer;
# ALBERT: encoder.albert_layer_groups (see transformer_blocks); GPT-2: h; Llama-style: layers.
_BLOCK_PATHS = (
    "encoder.layer",
    "transformer.layer",
    "encoder.albert_layer_groups",
    "h",
    "layers",
    "encoder.layers",
    "decoder.layers",
    "transformer.h",
)
# Final normalisations applied after the last block (GPT-2's ln_f, Llama's norm): they train with it.
_AFTER_BLOCKS = ("ln_f", "norm", "final_layer_norm")


def _attribute(obj, path):
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def ensure_pad_token(tokenizer):
    """Give ``tokenizer`` a padding token when it has none, without adding a token to its vocabulary.

    Decoder-only tokenizers (GPT-2's) ship without one. An existing token is reused (end of text
    first, then beginning of text, unknown, separator), so the embedding matrix keeps its size and
    the weights are untouched. That is safe because padded positions never count: the attention
    mask excludes them, every pooling reads the mask, and batches are padded on the right, where a
    left-to-right model's real tokens never look.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
        Changed in place.

    Returns
    -------
    tokenizer
    """
    if tokenizer.pad_token_id is None:
        for name in ("eos_token", "bos_token", "unk_token", "sep_token"):
            token = getattr(tokenizer, name, None)
            if token is not None:
                tokenizer.pad_token = token
                break
    return tokenizer


def is_decoder_only(config):
    """True for a model whose tokens see only the tokens before them (GPT-2, Llama, ...).

    A model type that transformers registers for causal language modelling but not for masked
    language modelling is decoder-only; so is an encoder configured as a decoder (``is_decoder``).
    """
    if getattr(config, "is_decoder", False):
        return True
    if getattr(config, "is_encoder_decoder", False):
        return False
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    model_type = getattr(config, "model_type", None)
    return model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def default_pooling(config):
    """What ``pooling="auto"`` means: "last" for a decoder-only model, "mean" for an encoder.

    A decoder's last real token is the only one that has read the whole text (each token sees only
    those before it), which is why GPT-style classifiers read it; an encoder's tokens all see the
    whole text, and their mean is the sentence-embedding standard (all-MiniLM-L6-v2 was trained with it).
    """
    return "last" if is_decoder_only(config) else "mean"


def cls_pooling_problem(config, tokenizer):
    """Why ``pooling="cls"`` cannot work for this model, or None when it can.

    "cls" reads position 0, which summarises the text only when the tokenizer puts a special token
    there ([CLS], <s>) and the model is bidirectional (a decoder's position 0 sees nothing else).
    """
    if is_decoder_only(config):
        return (f"{config.model_type!r} is a decoder-only model: its first token sees no other token, so it "
                "cannot summarise the text. Use pooling='last' (the last real token, which has read the whole "
                "text), 'mean', 'max' or 'auto'.")
    first = tokenizer("", add_special_tokens=True)["input_ids"][:1]
    if not first or first[0] not in set(tokenizer.all_special_ids):
        return (f"the tokenizer of this {config.model_type!r} model puts no special token ([CLS], <s>) at "
                "position 0, so there is no summary token to read. Use pooling='mean', 'max', 'last' or 'auto'.")
    return None


def resolve_pooling(pooling, config, tokenizer):
    """The pooling method to run for ``pooling`` on this model ("auto" resolved).

    Raises
    ------
    ValueError
        ``pooling="cls"`` for a model without a summary token at position 0; the message says why
        and what to use instead.
    """
    if pooling == "auto":
        return default_pooling(config)
    if pooling == "cls":
        problem = cls_pooling_problem(config, tokenizer)
        if problem is not None:
            raise ValueError(problem)
    return pooling


def transformer_blocks(model):
    """The ``nn.ModuleList`` of transformer blocks of a Hugging Face base model, bottom first.

    For ALBERT these are its layer groups: ALBERT applies ``num_hidden_layers`` layers that share
    the weights of ``num_hidden_groups`` groups (one in the published models), so a group is the
    unit that can be trained or frozen.

    Raises
    ------
    ValueError
        For a layout not known here; the message names the model class.
    """
    from torch import nn

    for path in _BLOCK_PATHS:
        blocks = _attribute(model, path)
        if isinstance(blocks, nn.ModuleList) and len(blocks):
            return blocks
    raise ValueError(
        f"Cannot find the transformer blocks of {type(model).__name__} (looked for "
        f"{', '.join(_BLOCK_PATHS)}); use train_layers='all' for this model."
    )


def modules_after_blocks(model):
    """Modules applied after the last transformer block (a final layer norm), which train with it."""
    from torch import nn

    found = (getattr(model, name, None) for name in _AFTER_BLOCKS)
    return [module for module in found if isinstance(module, nn.Module)]
