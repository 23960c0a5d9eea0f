// FlannelCore: pure values, no syscalls.
