"""Agents chosen by pheromone (issue 13, phase 2): quality per (agent, task type) that
evaporates with time, a weighted draw with an exploration floor, and the collaborator
ChatSession asks for an agent and tells the outcome to."""
