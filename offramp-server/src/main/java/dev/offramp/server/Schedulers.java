package dev.offramp.server;

import dev.offramp.api.Offramp;
import dev.offramp.serving.BatchRunner;
import dev.offramp.serving.DynamicBatcher;
import dev.offramp.serving.InferenceScheduler;
import dev.offramp.serving.LayerScheduler;
import dev.offramp.serving.SchedulerListener;

import java.time.Duration;

/** The batcher a config names: continuous runs the model layer by layer, dynamic runs a batch runner to the end. */
final class Schedulers {
    private Schedulers() {}

    static InferenceScheduler create(ServerConfig.Batcher batcher, Offramp offramp, BatchRunner runner, ServerConfig c,
                                     SchedulerListener listener) {
        return switch (batcher) {
            case CONTINUOUS -> new LayerScheduler(offramp, LayerScheduler.Config.defaults().withCapacity(c.queueCapacity())
                    .withMaxBatchSamples(c.maxBatch()), listener);
            case DYNAMIC -> new DynamicBatcher(runner, offramp.encoder()::checkInput, DynamicBatcher.Config.defaults().withCapacity(c.queueCapacity())
                    .withMaxBatchSamples(c.maxBatch()).withMaxWait(Duration.ofMillis(c.maxWaitMs())), listener);
        };
    }
}
