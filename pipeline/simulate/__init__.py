"""Deterministic event simulator for 虹都中心 with injected risk scenarios and their ground truth.

    from pipeline.simulate import simulate, write_jsonl, iter_lines
    sim = simulate(days=7, seed=42)
    write_jsonl(sim, "var/sim.jsonl")          # + var/sim.jsonl.truth.json
    sim.events, sim.truth                      # list of event dicts, ground-truth dict
"""

from pipeline.simulate.simulation import Record, Simulation, simulate
from pipeline.simulate.writer import iter_lines, truth_path, write_jsonl, write_truth

__all__ = ["Record", "Simulation", "iter_lines", "simulate", "truth_path", "write_jsonl", "write_truth"]
