"""Synthetic instruction data: self-instruct, evol, magpie, respond, extend, screen, preference.

Every LLM call goes through the SQLite cache and every output is an append-only JSONL
reconciled on restart, so a killed run resumes without paying twice. Records carry their
provenance (generator model, prompt template, parameters, parent id, stage). Entry
point for code: `oshie.synth.api.run_stage`; one module per pipeline.
"""
