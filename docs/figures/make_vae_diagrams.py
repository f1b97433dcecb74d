"""Draw chapter 06's two diagrams with matplotlib: the VAE's architecture and the reparameterization trick's graph.

    python docs/figures/make_vae_diagrams.py      # writes vae_architecture.{png,svg}, reparameterization.{png,svg}

The PNGs are what the notebook and GitHub show; the SVGs are the same drawings, scalable. Colours follow the
course palette (lvmlib.plotting.COLORS).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from lvmlib.plotting import COLORS, use_course_style  # noqa: E402

HERE = Path(__file__).resolve().parent
GRAD = "#D55E00"  # the gradient's colour (Okabe-Ito vermilion)
NOISE = "round,pad=0.05,rounding_size=0.3"  # random draws: grey, fully rounded


def box(ax, xy, text, color, w=1.5, h=0.8, style="round,pad=0.05", fontsize=11, alpha=0.25, lw=1.5):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, fc=color, ec=color, alpha=alpha))
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, fc="none", ec=color, lw=lw))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, a, b, color="0.2", ls="-", lw=1.5, rad=0.0, text=None, text_xy=None, fontsize=9):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=14, color=color, ls=ls, lw=lw,
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=2, shrinkB=2))
    if text:
        ax.text(*text_xy, text, fontsize=fontsize, color=color, ha="center", va="center")


def architecture():
    fig, ax = plt.subplots(figsize=(9, 3.3))
    ax.set(xlim=(0, 13.2), ylim=(0, 4.6))
    ax.set_axis_off()
    box(ax, (0.8, 2.6), "$x$\nimage\n($D$ pixels)", COLORS["data"], w=1.3, h=1.3)
    box(ax, (2.9, 2.6), "encoder\n$q_\\phi(z \\mid x)$", COLORS["q"], w=1.8, h=1.1)
    box(ax, (5.2, 3.4), "$\\mu_\\phi(x)$", COLORS["q"], w=1.3, h=0.6)
    box(ax, (5.2, 1.8), "$\\log \\sigma^2_\\phi(x)$", COLORS["q"], w=1.3, h=0.6)
    box(ax, (7.4, 2.6), "$z = \\mu + \\sigma \\odot \\varepsilon$\n($d_z$ numbers)", COLORS["elbo"], w=2.0, h=1.0)
    box(ax, (7.4, 1.05), "$\\varepsilon \\sim \\mathcal{N}(0, I)$", "0.5", w=1.8, h=0.55, style=NOISE,
        fontsize=10)
    box(ax, (9.75, 2.6), "decoder\n$p_\\theta(x \\mid z)$", COLORS["model"], w=1.8, h=1.1)
    box(ax, (12.1, 2.6), "logits $l$\n$p_j = s(l_j)$", COLORS["model"], w=1.7, h=1.1)
    arrow(ax, (1.45, 2.6), (2.0, 2.6))
    arrow(ax, (3.8, 2.8), (4.55, 3.3))
    arrow(ax, (3.8, 2.4), (4.55, 1.9))
    arrow(ax, (5.85, 3.3), (6.4, 2.85))
    arrow(ax, (5.85, 1.9), (6.4, 2.35))
    arrow(ax, (7.4, 1.35), (7.4, 2.1), color="0.45")
    arrow(ax, (8.4, 2.6), (8.85, 2.6))
    arrow(ax, (10.65, 2.6), (11.25, 2.6))
    ax.text(5.2, 4.25, "KL$(q_\\phi(z|x) \\,\\|\\, p(z))$ from $\\mu, \\log\\sigma^2$ in closed form",
            color=COLORS["kl"], ha="center", fontsize=9.5)
    ax.text(11.2, 4.25, "$\\log p_\\theta(x \\mid z) = \\sum_j x_j l_j - \\mathrm{softplus}(l_j)$",
            color=COLORS["model"], ha="center", fontsize=9.5)
    ax.text(6.6, 0.05,
            "$-\\mathrm{ELBO} \\approx -\\log p_\\theta(x \\mid z) + \\mathrm{KL}$: one sample $z$ per image,"
            " summed over the $D$ pixels and the $d_z$ units, averaged over the batch", ha="center", fontsize=9.5)
    ax.set_title("The VAE: encoder → one reparameterized sample → decoder", fontsize=12)
    return fig


def reparameterization():
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(9, 4.0))
    for ax in (ax_a, ax_b):
        ax.set(xlim=(0, 6), ylim=(0, 6.3))
        ax.set_axis_off()
    # left: z sampled directly, the gradient stops at the sampling node
    a = ax_a
    box(a, (1.0, 1.0), "$x$", COLORS["data"], w=0.8, h=0.6)
    box(a, (3.0, 1.0), "$\\phi$", COLORS["q"], w=0.8, h=0.6)
    box(a, (2.0, 2.6), "$\\mu, \\sigma$", COLORS["q"], w=1.2, h=0.6)
    box(a, (2.0, 4.1), "$z \\sim q_\\phi(z \\mid x)$", "0.5", w=2.0, h=0.65, style=NOISE, fontsize=10)
    box(a, (2.0, 5.6), "$-\\mathrm{ELBO}$", COLORS["kl"], w=1.4, h=0.6)
    box(a, (4.6, 4.1), "$\\theta$", COLORS["model"], w=0.8, h=0.6)
    arrow(a, (1.2, 1.3), (1.8, 2.3))
    arrow(a, (2.8, 1.3), (2.2, 2.3))
    arrow(a, (2.0, 2.9), (2.0, 3.5))
    arrow(a, (2.0, 4.75), (2.0, 5.3))
    arrow(a, (4.3, 4.4), (2.7, 5.45))
    arrow(a, (1.55, 5.3), (1.55, 4.45), color=GRAD, ls="--")
    a.text(1.5, 3.2, "×", color=GRAD, fontsize=20, ha="center", va="center")
    a.text(4.3, 2.3, "the gradient stops:\n$\\partial z / \\partial \\phi$ is\nnot defined for a draw", color=GRAD,
           fontsize=9, ha="center")
    arrow(a, (2.75, 5.75), (4.4, 4.5), color=GRAD, ls="--", rad=-0.3)
    a.set_title("without the trick: sample $z$ directly", fontsize=11)
    # right: z = mu + sigma * eps, a deterministic function; eps enters from the side
    b = ax_b
    box(b, (1.0, 1.0), "$x$", COLORS["data"], w=0.8, h=0.6)
    box(b, (2.6, 1.0), "$\\phi$", COLORS["q"], w=0.8, h=0.6)
    box(b, (1.8, 2.6), "$\\mu, \\sigma$", COLORS["q"], w=1.2, h=0.6)
    box(b, (4.5, 2.6), "$\\varepsilon \\sim \\mathcal{N}(0, I)$", "0.5", w=1.7, h=0.6, style=NOISE,
        fontsize=10)
    box(b, (1.8, 4.1), "$z = \\mu + \\sigma \\odot \\varepsilon$", COLORS["elbo"], w=2.0, h=0.65)
    box(b, (1.8, 5.6), "$-\\mathrm{ELBO}$", COLORS["kl"], w=1.4, h=0.6)
    box(b, (4.6, 4.9), "$\\theta$", COLORS["model"], w=0.8, h=0.6)
    arrow(b, (1.2, 1.3), (1.6, 2.3))
    arrow(b, (2.4, 1.3), (2.0, 2.3))
    arrow(b, (1.8, 2.9), (1.8, 3.75))
    arrow(b, (3.7, 2.95), (2.6, 3.8), color="0.45")
    arrow(b, (1.8, 4.45), (1.8, 5.3))
    arrow(b, (4.3, 5.1), (2.5, 5.5))
    arrow(b, (1.2, 5.3), (1.2, 4.45), color=GRAD, ls="--")
    arrow(b, (1.2, 3.75), (1.2, 2.9), color=GRAD, ls="--")
    arrow(b, (1.5, 2.3), (2.45, 1.3), color=GRAD, ls="--", rad=0.25)
    arrow(b, (2.5, 5.75), (4.3, 5.2), color=GRAD, ls="--", rad=-0.3)
    b.text(0.55, 3.5, "$\\nabla_\\phi$\nflows", color=GRAD, fontsize=9, ha="center")
    b.text(4.5, 1.45, "noise enters here:\nno parameter, so\nno gradient needed", color="0.35", fontsize=9,
           ha="center")
    b.set_title("with the trick: $z$ is a function of $\\phi$ and $\\varepsilon$", fontsize=11)
    fig.text(0.5, 0.02, "solid: forward computation · dashed: the gradient of $-$ELBO · grey: random draws",
             ha="center", fontsize=9.5)
    return fig


def main():
    use_course_style()
    for name, draw in (("vae_architecture", architecture), ("reparameterization", reparameterization)):
        fig = draw()
        for ext in ("png", "svg"):
            metadata = {"Date": None} if ext == "svg" else {"Software": None}  # the same bytes on every run
            fig.savefig(HERE / f"{name}.{ext}", dpi=100, bbox_inches="tight", metadata=metadata)
        plt.close(fig)
        print(f"wrote {name}.png and {name}.svg")


if __name__ == "__main__":
    main()
