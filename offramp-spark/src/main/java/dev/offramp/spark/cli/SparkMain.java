package dev.offramp.spark.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.net.URL;

/**
 * The Spark commands of ./offramp (the launcher runs them on this module's classpath, which has Spark; the rest of
 * the CLI stays free of it), and the main class of the shaded jar for spark-submit.
 */
@Command(name = "offramp", mixinStandardHelpOptions = true, version = "offramp 0.1.0",
        description = "Offramp on Apache Spark.",
        subcommands = {CommandLine.HelpCommand.class, SparkScoreCommand.class, SparkMain.Bench.class})
public final class SparkMain implements Runnable {

    public static void main(String[] args) {
        quietSparkLogs();
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (also what the tests drive). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SparkMain());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("offramp: " + describe(ex));
            if (System.getenv("OFFRAMP_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return 2;
        });
        return cl;
    }

    /** The innermost useful message: Spark wraps a task's exception in its own. */
    static String describe(Throwable ex) {
        Throwable t = ex;
        while (t.getCause() != null && t.getCause() != t && (t.getMessage() == null || t.getClass().getName().startsWith("org.apache.spark"))) {
            t = t.getCause();
        }
        String msg = t.getMessage();
        return msg == null || msg.isBlank() ? t.getClass().getSimpleName() : msg;
    }

    /**
     * Spark logs every stage at INFO on stderr, which buries the progress bar: unless the user configured Log4j, use
     * the module's warnings-only configuration (under spark-submit the cluster's configuration already won).
     */
    static void quietSparkLogs() {
        if (System.getProperty("log4j2.configurationFile") != null || System.getProperty("log4j.configurationFile") != null) return;
        URL quiet = SparkMain.class.getResource("/offramp-spark-log4j2.properties");
        if (quiet != null) System.setProperty("log4j2.configurationFile", quiet.toString());
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    @Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks on Apache Spark.",
            subcommands = {BenchSparkCommand.class})
    static final class Bench implements Runnable {
        @Override
        public void run() {
            new CommandLine(this).usage(System.out);
        }
    }
}
