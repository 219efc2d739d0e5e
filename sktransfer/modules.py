"""PyTorch modules that put a task head on a pretrained encoder (model-level code, no sklearn)."""

from torch import nn

from ._torch_utils import autocast_context
from .architectures import modules_after_blocks, transformer_blocks
from .pooling import pool

__all__ = ["SequenceClassifier", "freeze_lower_layers"]


class SequenceClassifier(nn.Module):
    """An encoder, a pooling of its last hidden states, dropout and a linear layer to class logits.

    Parameters
    ----------
    encoder : transformers.PreTrainedModel
        A bare encoder (``AutoModel``) whose output has ``last_hidden_state``.
    n_classes : int
    dropout : float
        Dropout on the pooled vector before the linear layer.
    pooling : {"mean", "max", "cls", "last"}
        Mean pooling suits sentence-embedding models such as all-MiniLM-L6-v2, which were trained
        with it; "cls" is BERT's original choice.
    precision : {"float32", "bfloat16", "float16"}
        The autocast precision of the forward pass (mixed precision: the weights stay float32), on
        the device of the inputs, so a module moved to another device keeps its precision. The
        logits are always float32.
    """

    def __init__(self, encoder, n_classes, *, dropout=0.1, pooling="mean", precision="float32"):
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.precision = precision
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_classes)

    def forward(self, input_ids, attention_mask):
        """Encode a batch, pool its last hidden states and return the class logits.

        Parameters
        ----------
        input_ids : Tensor of shape (batch, tokens)
        attention_mask : Tensor of shape (batch, tokens)
            1 for real tokens, 0 for padding.

        Returns
        -------
        logits : float32 Tensor of shape (batch, n_classes)
        """
        with autocast_context(input_ids.device, self.precision):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            logits = self.head(self.dropout(pool(hidden, attention_mask, self.pooling)))
        return logits.float()


def freeze_lower_layers(encoder, n_trainable):
    """Freeze the embeddings and all but the top ``n_trainable`` transformer blocks of ``encoder``.

    The blocks are found by :func:`sktransfer.architectures.transformer_blocks` (for ALBERT, its
    shared layer groups); a final layer norm after the last block (GPT-2's ``ln_f``) trains with
    the top block.

    Parameters
    ----------
    encoder : nn.Module
    n_trainable : int
        0 freezes the whole encoder (only the task head trains).

    Returns
    -------
    int
        The number of blocks in the encoder.
    """
    blocks = transformer_blocks(encoder)
    if not 0 <= n_trainable <= len(blocks):
        raise ValueError(
            f"train_layers must be 'all' or an int in [0, {len(blocks)}] for this model, got {n_trainable}."
        )
    encoder.requires_grad_(False)
    for block in blocks[len(blocks) - n_trainable :]:
        block.requires_grad_(True)
    if n_trainable:
        for module in modules_after_blocks(encoder):
            module.requires_grad_(True)
    return len(blocks)
