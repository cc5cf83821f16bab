"""A task's life: the state machine, audio download behind the egress policy, renders, callbacks."""
