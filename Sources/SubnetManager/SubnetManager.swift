// SubnetManager: the control-plane actor.
