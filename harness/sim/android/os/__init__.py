"""The OS model: system services (Doze, battery, power, network, jobs, packages, logd ...)."""
