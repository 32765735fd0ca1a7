package dev.offramp.server;

import dev.offramp.api.Offramp;
import dev.offramp.serving.BatchRunner;
import dev.offramp.serving.InferenceScheduler;
import dev.offramp.serving.SchedulerListener;

/** The batcher a config names, built on the model (continuous) or on a batch runner (dynamic). */
final class Schedulers {
    private Schedulers() {}

    static InferenceScheduler create(ServerConfig.Batcher batcher, Offramp offramp, BatchRunner runner, ServerConfig c,
                                     SchedulerListener listener) {
        // filled in when the schedulers land (branch api)
        throw new UnsupportedOperationException("schedulers are not merged yet");
    }
}
