package dev.offramp.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetsTest {

    @Test
    void loadsByNameAndExplainsUnknownNames() {
        TaskData rte = Datasets.load("RTE");
        assertEquals(2_490, rte.requireTrain().size());
        assertEquals(277, rte.dev().size());
        TaskData qnli = Datasets.load("qnli");
        assertEquals(5_463, qnli.dev().size());
        IllegalStateException noTrain = assertThrows(IllegalStateException.class, qnli::requireTrain);
        assertTrue(noTrain.getMessage().contains("QNLI"), noTrain.getMessage());
        assertEquals(500, Datasets.load("trec").dev().size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.load("yelp"));
        assertTrue(e.getMessage().contains("imdb") && e.getMessage().contains("sst2"), e.getMessage());
    }
}
