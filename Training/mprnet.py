"""MPRNet for denoising (Zamir et al., CVPR 2021), configurable widths.

Module and attribute names follow the official `Denoising/MPRNet.py` so that `state_dict()` keys are
the official ones: an official checkpoint loads into `MPRNet(80, 48, 32, 8, 4)` unchanged, and our
Swift engine reads the same names. All convolutions are bias-free; one PReLU (single slope) is shared
by every CAB, so its weight appears under every CAB's `body.1.weight` key.
"""
import re
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class Config:
    n_feat: int = 24
    scale_unetfeats: int = 16
    scale_orsnetfeats: int = 8
    num_cab: int = 2
    reduction: int = 4
    # CABs of a fourth, 1/8-resolution level under each decoder's bottom (0: the official three).
    context_cabs: int = 0

    def as_metadata(self):
        # context_cabs only when used, so that three-level exports keep the official metadata.
        return {k: str(v) for k, v in asdict(self).items() if k != "context_cabs" or v}

    @staticmethod
    def from_metadata(meta):
        return Config(**{k: int(meta[k]) for k in Config.__dataclass_fields__ if k in meta})

    @property
    def multiple(self):
        """What both image sides must be a multiple of: stage 1 halves them, each level halves again."""
        return 16 if self.context_cabs else 8


OFFICIAL = Config(80, 48, 32, 8, 4)


def conv(cin, cout, k):
    return nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)


class CALayer(nn.Module):
    """Channel attention: global mean, 1x1 down, ReLU, 1x1 up, sigmoid, scale."""

    def __init__(self, c, reduction):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_du = nn.Sequential(
            nn.Conv2d(c, c // reduction, 1, bias=False), nn.ReLU(inplace=True),
            nn.Conv2d(c // reduction, c, 1, bias=False), nn.Sigmoid())

    def forward(self, x):
        return x * self.conv_du(self.avg_pool(x))


class CAB(nn.Module):
    def __init__(self, c, reduction, act):
        super().__init__()
        self.body = nn.Sequential(conv(c, c, 3), act, conv(c, c, 3))
        self.CA = CALayer(c, reduction)

    def forward(self, x):
        return self.CA(self.body(x)) + x


def cabs(c, n, reduction, act):
    return nn.Sequential(*[CAB(c, reduction, act) for _ in range(n)])


class SAM(nn.Module):
    """Supervised attention module (1x1 convs in the denoising variant)."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = conv(c, c, 1)
        self.conv2 = conv(c, 3, 1)
        self.conv3 = conv(3, c, 1)

    def forward(self, x, x_img):
        img = self.conv2(x) + x_img
        return self.conv1(x) * torch.sigmoid(self.conv3(img)) + x, img


def bilinear(x, factor):
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)


class DownSample(nn.Module):
    def __init__(self, c, s):
        super().__init__()
        self.down = nn.Sequential(nn.Upsample(scale_factor=0.5, mode="bilinear", align_corners=False),
                                  nn.Conv2d(c, c + s, 1, bias=False))

    def forward(self, x):
        return self.down(x)


class UpSample(nn.Module):
    def __init__(self, c, s):
        super().__init__()
        self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                nn.Conv2d(c + s, c, 1, bias=False))

    def forward(self, x):
        return self.up(x)


class SkipUpSample(UpSample):
    def forward(self, x, skip):
        return self.up(x) + skip


class Encoder(nn.Module):
    def __init__(self, n, s, reduction, act, csff):
        super().__init__()
        widths = (n, n + s, n + 2 * s)
        self.encoder_level1 = cabs(widths[0], 2, reduction, act)
        self.encoder_level2 = cabs(widths[1], 2, reduction, act)
        self.encoder_level3 = cabs(widths[2], 2, reduction, act)
        self.down12 = DownSample(widths[0], s)
        self.down23 = DownSample(widths[1], s)
        if csff:
            for i, c in enumerate(widths, 1):
                setattr(self, f"csff_enc{i}", nn.Conv2d(c, c, 1, bias=False))
                setattr(self, f"csff_dec{i}", nn.Conv2d(c, c, 1, bias=False))

    def forward(self, x, enc=None, dec=None):
        levels = (self.encoder_level1, self.encoder_level2, self.encoder_level3)
        downs = (self.down12, self.down23, None)
        outs = []
        for i, (level, down) in enumerate(zip(levels, downs)):
            x = level(x)
            if enc is not None:
                x = x + getattr(self, f"csff_enc{i + 1}")(enc[i]) + getattr(self, f"csff_dec{i + 1}")(dec[i])
            outs.append(x)
            if down is not None:
                x = down(x)
        return outs


class Context(nn.Module):
    """A level under the U-Net's bottom, at half its resolution: down, CABs, up, added back.

    Chroma blotches 8-32 pixels across are 1-4 pixels here, within a few 3x3 convolutions' reach.
    """

    def __init__(self, c, s, num_cab, reduction, act):
        super().__init__()
        self.down = DownSample(c, s)
        self.body = cabs(c + s, num_cab, reduction, act)
        self.up = UpSample(c, s)

    def forward(self, x):
        return x + self.up(self.body(self.down(x)))


class Decoder(nn.Module):
    def __init__(self, n, s, reduction, act, context_cabs=0):
        super().__init__()
        self.context3 = Context(n + 2 * s, s, context_cabs, reduction, act) if context_cabs else None
        self.decoder_level1 = cabs(n, 2, reduction, act)
        self.decoder_level2 = cabs(n + s, 2, reduction, act)
        self.decoder_level3 = cabs(n + 2 * s, 2, reduction, act)
        self.skip_attn1 = CAB(n, reduction, act)
        self.skip_attn2 = CAB(n + s, reduction, act)
        self.up21 = SkipUpSample(n, s)
        self.up32 = SkipUpSample(n + s, s)

    def forward(self, enc):
        bottom = self.context3(enc[2]) if self.context3 is not None else enc[2]
        dec3 = self.decoder_level3(bottom)
        dec2 = self.decoder_level2(self.up32(dec3, self.skip_attn2(enc[1])))
        dec1 = self.decoder_level1(self.up21(dec2, self.skip_attn1(enc[0])))
        return [dec1, dec2, dec3]


class ORB(nn.Module):
    def __init__(self, c, reduction, act, num_cab):
        super().__init__()
        self.body = nn.Sequential(*[CAB(c, reduction, act) for _ in range(num_cab)], conv(c, c, 3))

    def forward(self, x):
        return self.body(x) + x


class ORSNet(nn.Module):
    def __init__(self, n, s_ors, reduction, act, s, num_cab):
        super().__init__()
        c = n + s_ors
        self.orb1 = ORB(c, reduction, act, num_cab)
        self.orb2 = ORB(c, reduction, act, num_cab)
        self.orb3 = ORB(c, reduction, act, num_cab)
        self.up_enc1 = UpSample(n, s)
        self.up_dec1 = UpSample(n, s)
        self.up_enc2 = nn.Sequential(UpSample(n + s, s), UpSample(n, s))
        self.up_dec2 = nn.Sequential(UpSample(n + s, s), UpSample(n, s))
        for i in (1, 2, 3):
            setattr(self, f"conv_enc{i}", nn.Conv2d(n, c, 1, bias=False))
            setattr(self, f"conv_dec{i}", nn.Conv2d(n, c, 1, bias=False))

    def forward(self, x, enc, dec):
        x = self.orb1(x) + self.conv_enc1(enc[0]) + self.conv_dec1(dec[0])
        x = self.orb2(x) + self.conv_enc2(self.up_enc1(enc[1])) + self.conv_dec2(self.up_dec1(dec[1]))
        x = self.orb3(x) + self.conv_enc3(self.up_enc2(enc[2])) + self.conv_dec3(self.up_dec2(dec[2]))
        return x


class MPRNet(nn.Module):
    def __init__(self, cfg: Config = Config()):
        super().__init__()
        self.cfg = cfg
        n, s, so, r = cfg.n_feat, cfg.scale_unetfeats, cfg.scale_orsnetfeats, cfg.reduction
        act = nn.PReLU()
        for i in (1, 2, 3):
            setattr(self, f"shallow_feat{i}", nn.Sequential(conv(3, n, 3), CAB(n, r, act)))
        self.stage1_encoder = Encoder(n, s, r, act, csff=False)
        self.stage1_decoder = Decoder(n, s, r, act, cfg.context_cabs)
        self.stage2_encoder = Encoder(n, s, r, act, csff=True)
        self.stage2_decoder = Decoder(n, s, r, act, cfg.context_cabs)
        self.stage3_orsnet = ORSNet(n, so, r, act, s, cfg.num_cab)
        self.sam12 = SAM(n)
        self.sam23 = SAM(n)
        self.concat12 = conv(2 * n, n, 3)
        self.concat23 = conv(2 * n, n + so, 3)
        self.tail = conv(n + so, 3, 3)

    def forward(self, x3_img):
        """Returns [stage3, stage2, stage1] images, as the official model does."""
        H, W = x3_img.shape[2], x3_img.shape[3]
        h, w = H // 2, W // 2
        top, bot = x3_img[:, :, :h], x3_img[:, :, h:]
        quarters = [top[..., :w], top[..., w:], bot[..., :w], bot[..., w:]]

        # Stage 1: four quarters, features joined side by side into two halves.
        f1 = [self.stage1_encoder(self.shallow_feat1(q)) for q in quarters]
        feat1_top = [torch.cat(p, 3) for p in zip(f1[0], f1[1])]
        feat1_bot = [torch.cat(p, 3) for p in zip(f1[2], f1[3])]
        res1_top = self.stage1_decoder(feat1_top)
        res1_bot = self.stage1_decoder(feat1_bot)
        sam_top, img1_top = self.sam12(res1_top[0], top)
        sam_bot, img1_bot = self.sam12(res1_bot[0], bot)
        stage1_img = torch.cat([img1_top, img1_bot], 2)

        # Stage 2: two halves.
        x2top = self.concat12(torch.cat([self.shallow_feat2(top), sam_top], 1))
        x2bot = self.concat12(torch.cat([self.shallow_feat2(bot), sam_bot], 1))
        feat2_top = self.stage2_encoder(x2top, feat1_top, res1_top)
        feat2_bot = self.stage2_encoder(x2bot, feat1_bot, res1_bot)
        feat2 = [torch.cat(p, 2) for p in zip(feat2_top, feat2_bot)]
        res2 = self.stage2_decoder(feat2)
        sam3, stage2_img = self.sam23(res2[0], x3_img)

        # Stage 3: full resolution.
        x3 = self.concat23(torch.cat([self.shallow_feat3(x3_img), sam3], 1))
        x3 = self.stage3_orsnet(x3, feat2, res2)
        return [self.tail(x3) + x3_img, stage2_img, stage1_img]


def pad_to_multiple(x, m):
    """Reflect-pads the bottom/right so both sides are multiples of m; returns (padded, H, W)."""
    H, W = x.shape[2], x.shape[3]
    ph, pw = (-H) % m, (-W) % m
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
    return x, H, W


@torch.no_grad()
def grow(model: MPRNet, cfg: Config) -> MPRNet:
    """A copy of `model` in the larger config `cfg` (more CABs per ORB, a context level where
    there was none; widths unchanged) that computes the same function.

    Existing weights are kept. Each new ORB CAB goes after the last one with its second
    convolution zeroed, and a new context level's up-projection is zeroed, so every new branch
    adds nothing until training moves those weights (their gradients are not zero, as their
    inputs are not).
    """
    old = model.cfg
    widths = (old.n_feat, old.scale_unetfeats, old.scale_orsnetfeats, old.reduction)
    if widths != (cfg.n_feat, cfg.scale_unetfeats, cfg.scale_orsnetfeats, cfg.reduction):
        raise ValueError(f"grow: {cfg} changes the widths of {old}")
    if cfg.num_cab < old.num_cab or (old.context_cabs and cfg.context_cabs != old.context_cabs):
        raise ValueError(f"grow: {cfg} is not a larger {old}")
    big = MPRNet(cfg)
    state = big.state_dict()
    shared_prelu = model.shallow_feat1[1].body[1].weight
    for key in state:
        if key.endswith("body.1.weight") and state[key].shape == shared_prelu.shape:
            state[key] = shared_prelu.clone()
    for key, value in model.state_dict().items():
        # The ORB tail convolution sits after the CABs: body.<old num_cab> becomes body.<num_cab>.
        tail = re.fullmatch(r"(stage3_orsnet\.orb\d\.body\.)(\d+)(\..*)", key)
        if tail and int(tail.group(2)) == old.num_cab:
            key = f"{tail.group(1)}{cfg.num_cab}{tail.group(3)}"
        state[key] = value.clone()
    for orb in (1, 2, 3):
        for cab in range(old.num_cab, cfg.num_cab):
            key = f"stage3_orsnet.orb{orb}.body.{cab}.body.2.weight"
            state[key] = torch.zeros_like(state[key])
    if cfg.context_cabs and not old.context_cabs:
        for stage in (1, 2):
            key = f"stage{stage}_decoder.context3.up.up.1.weight"
            state[key] = torch.zeros_like(state[key])
    big.load_state_dict(state)
    return big


@torch.no_grad()
def denoise(model, x):
    """x: N x 3 x H x W in [0, 1], any size; returns the stage-3 output cropped back."""
    xp, H, W = pad_to_multiple(x, model.cfg.multiple)
    return model(xp)[0][:, :, :H, :W]
