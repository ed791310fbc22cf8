package parsecheck;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Parses every *.json file of a folder as an R4 resource with HAPI's strict error handler
 * (unknown elements, wrong JSON types and invalid primitive values are errors) and prints one
 * line per file: "ok NAME TYPE" or "error NAME MESSAGE". Exit status 1 when any file failed.
 */
public final class ParseAll {
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: ParseAll FOLDER");
      System.exit(2);
    }
    IParser parser = FhirContext.forR4().newJsonParser().setParserErrorHandler(new StrictErrorHandler());
    List<Path> files;
    try (Stream<Path> listing = Files.list(Path.of(args[0]))) {
      files = listing.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    int failed = 0;
    for (Path file : files) {
      String name = file.getFileName().toString();
      try {
        IBaseResource resource = parser.parseResource(Files.readString(file, StandardCharsets.UTF_8));
        System.out.println("ok " + name + " " + resource.fhirType());
      } catch (Exception e) {
        failed++;
        System.out.println("error " + name + " " + String.valueOf(e.getMessage()).replace('\n', ' '));
      }
    }
    System.exit(failed == 0 ? 0 : 1);
  }
}
