"""Bradley–Terry strengths from pairwise games, with a first-position (home) advantage.

Model: P(i beats j | i shown first) = theta * p_i / (theta * p_i + p_j). Fitted with the
MM algorithm of Hunter (2004, "MM algorithms for generalized Bradley-Terry models",
section 3.3); a tie counts as half a win for each side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Game:
    first: str   # the system whose answer the judge saw first (the "home" side)
    second: str
    score: float  # 1 first won, 0 second won, 0.5 tie


@dataclass
class BTResult:
    strengths: dict[str, float]  # normalised to sum 1
    home_advantage: float        # theta; 1.0 means no position bias
    iterations: int
    converged: bool

    def win_probability(self, a: str, b: str) -> float:
        """P(a beats b) with no position advantage."""
        pa, pb = self.strengths[a], self.strengths[b]
        return pa / (pa + pb)


def fit_bradley_terry(
    games: Sequence[Game],
    home_advantage: bool = True,
    max_iter: int = 10000,
    tol: float = 1e-10,
) -> BTResult:
    players = sorted({g.first for g in games} | {g.second for g in games})
    wins = {p: 0.0 for p in players}
    home_wins = 0.0
    for g in games:
        wins[g.first] += g.score
        wins[g.second] += 1 - g.score
        home_wins += g.score
    # a side that never wins (or a position that never wins) would go to zero strength;
    # a tiny pseudo-count in exactly those degenerate cases keeps the fit finite
    eps = 1e-3
    wins = {k: (v if v > 0 else eps) for k, v in wins.items()}
    away_wins = len(games) - home_wins
    home_wins = home_wins if home_wins > 0 else eps
    home_wins = home_wins if away_wins > 0 else home_wins - eps
    p = {k: 1.0 / len(players) for k in players}
    theta = 1.0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - reported after the loop
        denom = {k: 0.0 for k in players}
        for g in games:
            d = theta * p[g.first] + p[g.second]
            denom[g.first] += theta / d
            denom[g.second] += 1.0 / d
        new_p = {k: wins[k] / denom[k] if denom[k] else p[k] for k in players}
        total = sum(new_p.values())
        new_p = {k: v / total for k, v in new_p.items()}
        new_theta = theta
        if home_advantage:
            s = sum(new_p[g.first] / (theta * new_p[g.first] + new_p[g.second]) for g in games)
            new_theta = home_wins / s if s else theta
        delta = max(abs(new_p[k] - p[k]) for k in players) + abs(new_theta - theta)
        p, theta = new_p, new_theta
        if delta < tol:
            converged = True
            break
    return BTResult(strengths=p, home_advantage=theta, iterations=it, converged=converged)


def elo_scale(strengths: dict[str, float], anchor: float = 1000.0) -> dict[str, float]:
    """Strengths on an Elo-like scale (400 * log10), centred on `anchor`."""
    logs = {k: 400 * math.log10(v) for k, v in strengths.items()}
    mean = sum(logs.values()) / len(logs)
    return {k: anchor + v - mean for k, v in logs.items()}
