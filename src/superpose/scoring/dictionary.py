"""Dictionaries to score: an SAE's decoder (and encoder), any encode/decode object, or components.

Everything becomes a `Dictionary`: latent directions `decoder: [k, D]` plus, when known, how to get
latent activations (`encode: [batch, D] → [batch, k]`) and reconstructions (`decode`), or latent
activations already computed for the truth's samples (`codes: [batch, k]`).
Accepted inputs (`as_dictionary`):
- a tensor `[k, D]` (decoder rows), or `[C, D, D_in]` parameter components (each component's
  leading left singular vector — the direction it writes — becomes its latent);
- a mapping or safetensors file/directory with SAELens names `W_dec [k, D]`, optional `W_enc
  [D, k]`, `b_enc [k]`, `b_dec [D]` and, for TopK SAEs, a scalar `k`;
- any object with `encode`/`decode` (an SAELens SAE, our `SAE`): decoder rows from its `W_dec`
  when it has one, else decode(eye) − decode(0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..base.errors import SuperposeError

Encode = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Dictionary:
    """Latent directions `decoder: [k, D]` and optional encode/decode or precomputed `codes`."""

    decoder: torch.Tensor
    encode: Encode | None = None
    decode: Encode | None = None
    codes: torch.Tensor | None = None
    name: str = "dictionary"

    def __post_init__(self) -> None:
        for key in ("decoder", "codes"):
            t = getattr(self, key)
            if t is not None and not torch.isfinite(t).all():
                raise SuperposeError(f"{self.name}: {key} holds NaN or infinite values")

    @property
    def n_latents(self) -> int:
        return self.decoder.shape[0]

    def latent_acts(self, acts: torch.Tensor) -> torch.Tensor | None:
        """Latent activations on `acts: [batch, D]` → [batch, k] (None when unknown)."""
        if self.codes is not None:
            return self.codes.float()
        if self.encode is None:
            return None
        with torch.no_grad():
            return self.encode(acts).detach().float()

    def reconstruct(self, acts: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor | None:
        """decode(encode(acts)) → [batch, D]; with codes, codes @ decoder (None when unknown).
        z: `latent_acts(acts)` when already computed (saves encoding twice)."""
        if z is None:
            z = self.latent_acts(acts)
        if z is None:
            return None
        if self.decode is None:
            return z @ self.decoder
        with torch.no_grad():
            return self.decode(z).detach().float()


def sae_from_tensors(t: Mapping[str, torch.Tensor], name: str = "sae") -> Dictionary:
    """A ReLU (or TopK, when `k` is given) SAE from SAELens-named tensors."""
    if "W_dec" not in t:
        raise SuperposeError(
            f"{name}: no 'W_dec' tensor (have {sorted(t)}); an SAE needs W_dec [k, D]"
        )
    W_dec = t["W_dec"].detach().float()
    if W_dec.ndim != 2 or 0 in W_dec.shape:
        raise SuperposeError(f"{name}: W_dec must be [k, D], k, D ≥ 1, got {list(W_dec.shape)}")
    k, D = W_dec.shape
    shapes = {"W_enc": [D, k], "b_enc": [k], "b_dec": [D]}
    for key, want in shapes.items():
        if key in t and list(t[key].shape) != want:
            raise SuperposeError(
                f"{name}: {key} must be {want} to match W_dec [k, D] = {[k, D]}, got "
                f"{list(t[key].shape)}"
            )
    for key in ("W_dec", *shapes):
        if key in t and not torch.isfinite(t[key]).all():
            raise SuperposeError(f"{name}: {key} holds NaN or infinite values")
    top = None
    if "k" in t:
        kt = t["k"]
        if kt.numel() != 1 or not torch.isfinite(kt.float()).all() or not 1 <= float(kt) <= k:
            raise SuperposeError(f"{name}: k must be one number in 1..{k} (the latents kept)")
        top = int(kt)
    b_dec = t["b_dec"].detach().float() if "b_dec" in t else torch.zeros(D)
    if "W_enc" not in t:
        return Dictionary(W_dec, name=name)
    W_enc = t["W_enc"].detach().float()
    b_enc = t["b_enc"].detach().float() if "b_enc" in t else torch.zeros(k)

    def encode(x: torch.Tensor) -> torch.Tensor:
        pre = (x - b_dec) @ W_enc + b_enc
        if top is None:
            return torch.relu(pre)
        val, idx = pre.topk(min(top, k), dim=-1)
        return torch.zeros_like(pre).scatter_(-1, idx, torch.relu(val))

    def decode(z: torch.Tensor) -> torch.Tensor:
        return z @ W_dec + b_dec

    return Dictionary(W_dec, encode, decode, name=name)


def load_safetensors(path: str | Path) -> Dictionary:
    """An SAE from a safetensors file, or a directory holding exactly one (SAELens saves one)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.safetensors"))
        if len(files) != 1:
            raise SuperposeError(
                f"{path}: expected one .safetensors file in the directory, found {len(files)}"
            )
        path = files[0]
    if not path.is_file():
        raise SuperposeError(f"{path}: no such dictionary file")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise SuperposeError(f"{path}: not a readable safetensors file ({err})") from None
    return sae_from_tensors(tensors, name=str(path))


def components_directions(components: torch.Tensor) -> torch.Tensor:
    """Leading left singular vector of each parameter component: [C, D, D_in] → [C, D]."""
    U, _, _ = torch.linalg.svd(components.detach().float(), full_matrices=False)
    return U[..., 0]


def as_dictionary(obj: Any, name: str | None = None) -> Dictionary:
    """Turn any accepted dictionary form (see module docstring) into a `Dictionary`."""
    if isinstance(obj, Dictionary):
        return obj
    if isinstance(obj, (str, Path)):
        return load_safetensors(obj)
    if isinstance(obj, torch.Tensor):
        label = name or "dictionary"
        if not torch.isfinite(obj).all():
            raise SuperposeError(f"{label}: the tensor holds NaN or infinite values")
        if obj.ndim == 2:
            return Dictionary(obj.detach().float(), name=label)
        if obj.ndim == 3:
            return Dictionary(components_directions(obj), name=name or "components")
        raise SuperposeError(
            f"{label}: a tensor dictionary must be [k, D] (decoder rows) or [C, D, D_in] (components), got {list(obj.shape)}"
        )
    if isinstance(obj, Mapping):
        return sae_from_tensors(obj, name=name or "sae")
    if callable(getattr(obj, "encode", None)) and callable(getattr(obj, "decode", None)):
        label = name or type(obj).__name__
        W = getattr(obj, "W_dec", None)
        if isinstance(W, torch.Tensor):
            decoder = W.detach().float()
        else:
            k = getattr(obj, "d_sae", None) or getattr(obj, "n_latents", None)
            if not isinstance(k, int):
                raise SuperposeError(
                    f"{label}: has encode/decode but neither W_dec nor d_sae to find its latents"
                )
            with torch.no_grad():
                eye = torch.eye(k)
                decoder = (obj.decode(eye) - obj.decode(torch.zeros(1, k))).detach().float()
        return Dictionary(decoder, obj.encode, obj.decode, name=label)
    raise SuperposeError(
        f"cannot score a {type(obj).__name__}: pass a [k, D] tensor, SAE tensors (W_dec…), a safetensors path, or an object with encode/decode"
    )


__all__ = ["Dictionary", "as_dictionary", "components_directions", "load_safetensors"]
