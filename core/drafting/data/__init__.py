"""Weights the drafting engine ships (no text of other people): see ACTS_LICENSE.txt."""
