"""Evaluation metrics: QA (EM/F1), ROUGE, classification, bootstrap CIs, Bradley–Terry,
inter-rater agreement (Cohen's / Fleiss' kappa)."""
