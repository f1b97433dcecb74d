"""Chapter 06 exercises: right answers written here (not copied from lvmlib), each named mistake with its own
diagnosis, untouched stubs, hints in steps, and the capstone step by step."""

import numpy as np
import pytest
import torch
from scipy.special import expit, xlogy
from torch.nn import functional as F

from lvmlib.exercises import ch06


# ---- exercise 1 ---------------------------------------------------------------------------------------------------
def right_log_bernoulli(x, logits):
    # log sigm(l) = -log(1 + e^-l), computed without overflow through logaddexp
    return np.sum(x * -np.logaddexp(0, -logits) + (1 - x) * -np.logaddexp(0, logits), axis=-1)


def naive_probabilities(x, logits):  # log(0) = -inf once sigm(l) rounds to 0 or 1
    p = expit(logits)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(xlogy(x, p) + xlogy(1 - x, 1 - p), axis=-1)


def naive_log1p_exp(x, logits):  # the review's case: fine at +-100, inf at 1000
    with np.errstate(over="ignore"):
        return np.sum(x * logits - np.log1p(np.exp(logits)), axis=-1)


def stub(*args):
    # your code here: replace ... with your answer
    ...


def test_exercise_1_right_and_wrong(capsys):
    assert ch06.ex1.check(right_log_bernoulli) is True
    for naive in (naive_probabilities, naive_log1p_exp):
        assert ch06.ex1.check(naive) is False
        out = capsys.readouterr().out
        assert "1000" in out and "under- or overflowed" in out  # the case (logits of +-1000) and the diagnosis
    assert ch06.ex1.check(lambda x, logits: right_log_bernoulli(x, logits) / x.shape[-1]) is False
    assert "You averaged over the pixels" in capsys.readouterr().out
    assert ch06.ex1.check(lambda x, logits: -right_log_bernoulli(x, logits)) is False
    assert "wrong sign" in capsys.readouterr().out
    assert ch06.ex1.check(stub) is None
    assert "not attempted" in capsys.readouterr().out
    assert len(ch06.ex1.hints) >= 2


def test_log1p_exp_passes_at_100_so_the_old_cases_could_not_catch_it():
    x, logits = np.array([[1.0, 0.0]]), np.array([[-100.0, 100.0]])
    assert np.allclose(naive_log1p_exp(x, logits), right_log_bernoulli(x, logits))


# ---- the capstone, a right solution written here ------------------------------------------------------------------
def my_negative_elbo(encoder, decoder, x, eps):
    mu, log_var = encoder(x)
    sigma = torch.sqrt(torch.exp(log_var))
    logits = decoder(mu + sigma * eps)
    log_p = (F.logsigmoid(logits) * x + F.logsigmoid(-logits) * (1 - x)).sum(dim=1)
    kl = (-0.5 * log_var + 0.5 * (sigma**2 + mu**2) - 0.5).sum(dim=1)
    return torch.mean(kl - log_p)


def my_training_step(encoder, decoder, optimizer, x, eps):
    optimizer.zero_grad()
    loss = my_negative_elbo(encoder, decoder, x, eps)
    loss.backward()
    optimizer.step()
    return loss.item()


def my_train(encoder, decoder, x, n_epochs, generator, step=my_training_step, shuffle_every_epoch=True):
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    d_z = decoder.net[0].in_features
    history = []
    order = torch.randperm(len(x), generator=generator)
    for epoch in range(n_epochs):
        if shuffle_every_epoch and epoch > 0:
            order = torch.randperm(len(x), generator=generator)
        losses, sizes = [], []
        for start in range(0, len(x), 100):
            xb = x[order[start:start + 100]]
            eps = torch.randn((len(xb), d_z), generator=generator)
            losses.append(step(encoder, decoder, optimizer, xb, eps))
            sizes.append(len(xb))
        history.append(np.dot(losses, sizes) / sum(sizes))
    return history


def test_a_right_capstone_passes_every_step(capsys):
    verdicts = ch06.capstone.check(negative_elbo=my_negative_elbo, training_step=my_training_step, train=my_train)
    assert verdicts == {"negative_elbo": True, "training_step": True, "train": True}, capsys.readouterr().out
    assert "3 of 3 steps correct" in capsys.readouterr().out


def test_untouched_capstone_is_not_attempted(capsys):
    verdicts = ch06.capstone.check(negative_elbo=stub, training_step=stub, train=stub)
    assert verdicts == {"negative_elbo": None, "training_step": None, "train": None}
    assert "0 of 3 steps correct" in capsys.readouterr().out


def _loss_with(kl_sign=1.0, sigma_power=0.5, kl_log_var_scale=1.0, pixel_reduce="sum", batch_reduce="mean",
               logits_to_probs=False):
    def loss(encoder, decoder, x, eps):
        mu, log_var = encoder(x)
        logits = decoder(mu + torch.exp(sigma_power * log_var) * eps)
        if logits_to_probs:
            logits = torch.sigmoid(logits)
        per_pixel = x * logits - F.softplus(logits)
        log_p = per_pixel.sum(1) if pixel_reduce == "sum" else per_pixel.mean(1)
        lv = kl_log_var_scale * log_var
        kl = 0.5 * (torch.exp(lv) + mu**2 - 1 - lv).sum(1)
        per_image = kl_sign * kl - log_p
        return per_image.mean() if batch_reduce == "mean" else per_image.sum()

    return loss


MISTAKES = [
    (_loss_with(kl_sign=-1.0), "The KL term has the wrong sign"),
    (_loss_with(sigma_power=1.0), "Your z uses sigma = exp(log_var)"),
    (_loss_with(kl_log_var_scale=2.0), "Your KL reads log_var as log sigma"),
    (_loss_with(pixel_reduce="mean"), "You averaged log p(x|z) over the pixels"),
    (_loss_with(batch_reduce="sum"), "You summed over the batch"),
    (_loss_with(logits_to_probs=True), "You passed probabilities sigm(l) where logits are expected"),
]


@pytest.mark.parametrize("wrong, message", MISTAKES)
def test_each_loss_mistake_gets_its_own_diagnosis(wrong, message, capsys):
    assert ch06.capstone.negative_elbo.check(wrong) is False
    out = capsys.readouterr().out
    assert message in out
    for _, other_message in MISTAKES:
        assert other_message == message or other_message not in out


def test_a_naive_bernoulli_term_fails_on_the_large_logits_case(capsys):
    def naive(encoder, decoder, x, eps):
        mu, log_var = encoder(x)
        p = torch.sigmoid(decoder(mu + torch.exp(0.5 * log_var) * eps))
        log_p = (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(1)
        return (0.5 * (log_var.exp() + mu**2 - 1 - log_var).sum(1) - log_p).mean()

    assert ch06.capstone.negative_elbo.check(naive) is False
    out = capsys.readouterr().out
    assert "logits reach about +-1000" in out and "under- or overflowed" in out


def test_a_bug_in_one_step_fails_that_step_only(capsys):
    def step_without_zero_grad(encoder, decoder, optimizer, x, eps):
        loss = my_negative_elbo(encoder, decoder, x, eps)
        loss.backward()
        optimizer.step()
        return loss.item()

    def train_shuffled_once(*args):
        return my_train(*args, shuffle_every_epoch=False)

    verdicts = ch06.capstone.check(negative_elbo=my_negative_elbo, training_step=step_without_zero_grad,
                                   train=my_train)
    assert verdicts == {"negative_elbo": True, "training_step": False, "train": True}
    assert "optimizer.zero_grad()" in capsys.readouterr().out

    verdicts = ch06.capstone.check(negative_elbo=_loss_with(kl_sign=-1.0), training_step=my_training_step,
                                   train=my_train)
    assert verdicts == {"negative_elbo": False, "training_step": True, "train": True}

    verdicts = ch06.capstone.check(negative_elbo=my_negative_elbo, training_step=my_training_step,
                                   train=train_shuffled_once)
    assert verdicts == {"negative_elbo": True, "training_step": True, "train": False}
    assert "draw a new order with torch.randperm at the start of every epoch" in capsys.readouterr().out


def test_a_step_that_never_moves_the_parameters_is_named(capsys):
    def no_step(encoder, decoder, optimizer, x, eps):
        return my_negative_elbo(encoder, decoder, x, eps).item()

    assert ch06.capstone.training_step.check(no_step) is False
    assert "did not move" in capsys.readouterr().out


def test_hints_come_in_steps_and_the_printed_solutions_run():
    exercises = [ch06.ex1, *ch06.capstone.steps.values()]
    assert all(len(ex.hints) >= 2 and ex.explanation for ex in exercises)
    namespace = {"np": np, "torch": torch, "F": F}
    for ex in exercises:
        exec(ex._solution, namespace)
    assert ch06.ex1.check(namespace["log_p_x_given_logits"]) is True
    assert ch06.capstone.check(negative_elbo=namespace["negative_elbo"], training_step=namespace["training_step"],
                               train=namespace["train"]) == {"negative_elbo": True, "training_step": True,
                                                             "train": True}
