"""The Explorer → Worker → Validator cycle (issue 16): a complex task run by three
sub_agent sessions inside an envelope reserved out of the parent session's budget.

`cycle.SwarmCycle` runs it and yields events; `cycle.run_swarm` runs it to the end
(for the bench and the CLI). The parts: `envelope` (reservation and shares), `checks`
(mechanical checks before any opinion), `stall` (a cycle repeating itself), `brief`
(the roles' minimal briefs and the verdict parser).
"""
