"""Work that runs outside the request that asked for it: bundle loads in a child process,
import jobs on the queue."""
