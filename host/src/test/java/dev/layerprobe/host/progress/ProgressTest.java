package dev.layerprobe.host.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void smallTotalsPrintEveryStep() {
        StringWriter s = new StringWriter();
        try (Progress p = Progress.plain("calibrating", 3, new PrintWriter(s))) {
            p.step();
            p.step();
            p.step();
        }
        assertEquals(
                List.of("calibrating: 1/3", "calibrating: 2/3", "calibrating: 3/3"),
                s.toString().lines().toList());
    }

    @Test
    void largeTotalsPrintEveryTenthAndTheEnd() {
        StringWriter s = new StringWriter();
        try (Progress p = Progress.plain("layers", 100, new PrintWriter(s))) {
            for (int i = 0; i < 95; i++) {
                p.step();
            }
        }
        List<String> lines = s.toString().lines().toList();
        assertEquals(10, lines.size());
        assertEquals("layers: 10/100", lines.get(0));
        assertEquals("layers: 90/100", lines.get(8));
        assertEquals("layers: 95/100", lines.get(9), "close prints where it stopped");
    }

    @Test
    void closeIsIdempotentAndStepsAfterCloseAreIgnored() {
        StringWriter s = new StringWriter();
        Progress p = Progress.plain("x", 2, new PrintWriter(s));
        p.stepTo(2);
        p.close();
        p.close();
        p.step();
        assertEquals(List.of("x: 2/2"), s.toString().lines().toList());
    }
}
