// Daemon: options, startup order, subnet.env.
