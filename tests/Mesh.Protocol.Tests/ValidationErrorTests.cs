using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>
/// Every problem in a manifest is reported with the file, the 1-based line and column of the
/// offending text, and the field path, e.g. <c>resources[1] (app-conf).mode</c>.
/// </summary>
public class ValidationErrorTests
{
    [Fact]
    public void A_misspelt_field_is_reported_at_its_key_and_the_known_fields_are_listed()
    {
        var error = OnlyErrorIn("""
            manifest: web
            resources:
              - id: app-dir
                type: directory
                path: /srv/app
              - id: app-conf
                type: file
                path: /srv/app/app.conf
                mdoe: "0640"
            """);

        error.AssertAt(9, 5, "resources[1] (app-conf).mdoe", "unknown field (expected one of: ");
        var known = error.Message.Split("expected one of: ")[1].TrimEnd(')').Split(", ");
        Assert.Contains("mode", known);
        Assert.Equal(known.Order(StringComparer.Ordinal), known);
    }

    [Theory]
    [InlineData("manifest: web\nresource: []\n", 2, 1, "resource")]
    [InlineData("manifest: web\ntarget:\n  role: [web]\n", 3, 3, "target.role")]
    public void Unknown_fields_outside_resources_are_reported_too(string yaml, int line, int column, string field) =>
        OnlyErrorIn(yaml).AssertAt(line, column, field, "unknown field");

    [Fact]
    public void A_manifest_without_a_name_is_reported_at_its_first_line() =>
        OnlyErrorIn("resources: []\n").AssertAt(1, 1, "manifest", "is required");

    [Theory]
    [InlineData("Web")]
    [InlineData("web app")]
    [InlineData("-web")]
    public void A_manifest_name_must_be_lowercase_letters_digits_and_punctuation(string name) =>
        OnlyErrorIn($"manifest: {name}\n").AssertAt(1, 11, "manifest", "is not a valid name");

    [Theory]
    [InlineData("{type: file, path: /a}", "resources[0].id")]
    [InlineData("{id: a, path: /a}", "resources[0] (a).type")]
    [InlineData("{id: a, type: file}", "resources[0] (a).path")]
    [InlineData("{id: a, type: directory}", "resources[0] (a).path")]
    public void A_missing_required_field_is_reported_at_the_resource_that_lacks_it(string flow, string field) =>
        AssertResourceError(flow, field, "{", "is required");

    [Fact]
    public void An_unknown_resource_type_is_reported_with_the_types_that_exist()
    {
        const string Flow = "{id: conf, type: flie, path: /a}";
        var error = OnlyErrorIn(OneResource(Flow));

        error.AssertAt(3, 5 + Flow.IndexOf("flie", StringComparison.Ordinal), "resources[0] (conf).type", "unknown resource type 'flie' (known: ");
        var known = error.Message.Split("(known: ")[1].TrimEnd(')').Split(", ");
        Assert.Subset(known.ToHashSet(), new HashSet<string> { "directory", "exec", "file", "symlink" });
        Assert.Equal(known.Order(StringComparer.Ordinal), known);
    }

    [Fact]
    public void An_id_with_spaces_is_not_valid() =>
        AssertResourceError("{id: 'a b', type: file, path: /a}", "resources[0] (a b).id", "'a b'", "is not a valid id");

    [Theory]
    [InlineData("999")]
    [InlineData("0x44")]
    [InlineData("64")]
    [InlineData("07777")]
    [InlineData("rw-r--r--")]
    public void A_mode_must_be_three_or_four_octal_digits(string mode) =>
        AssertResourceError($"{{id: conf, type: file, path: /c, mode: \"{mode}\"}}", "resources[0] (conf).mode", $"\"{mode}\"",
            $"'{mode}' is not an octal file mode");

    [Theory]
    [InlineData("gone")]
    [InlineData("Present")]
    [InlineData("latest")]
    public void Ensure_is_present_or_absent_and_nothing_else(string ensure) =>
        AssertResourceError($"{{id: conf, type: file, path: /c, ensure: {ensure}}}", "resources[0] (conf).ensure", ensure,
            $"'{ensure}' is not one of: present, absent");

    [Theory]
    [InlineData("file", "etc/motd", "must be absolute")]
    [InlineData("file", "", "is empty")]
    [InlineData("file", "/srv/../etc/passwd", "escapes the root")]
    [InlineData("directory", "/..", "escapes the root")]
    [InlineData("file", "/srv/./app.conf", "'.' is not allowed")]
    [InlineData("directory", "/srv//app", "'//' is not allowed")]
    [InlineData("directory", "/srv/app/", "must not end with /")]
    public void A_path_must_be_absolute_and_normalised_inside_the_root(string type, string path, string says) =>
        AssertResourceError($"{{id: p, type: {type}, path: '{path}'}}", "resources[0] (p).path", $"'{path}'", says);

    [Fact]
    public void The_root_directory_cannot_be_removed() =>
        AssertResourceError("{id: root, type: directory, path: /, ensure: absent}", "resources[0] (root).path", "/,",
            "the root itself cannot be removed");

    [Theory]
    [InlineData("content: bye")]
    [InlineData("mode: '0644'")]
    public void An_absent_file_takes_no_content_or_mode(string extra) =>
        AssertResourceError($"{{id: old, type: file, path: /old, ensure: absent, {extra}}}", "resources[0] (old).ensure", "absent",
            "an absent file takes no content");

    [Theory]
    [InlineData("{id: a, type: file, path: /a, requires: {x: y}}", "resources[0] (a).requires", "{x", "must be a list of strings")]
    [InlineData("{id: a, type: file, path: /a, content: [x]}", "resources[0] (a).content", "[x", "must be a string")]
    [InlineData("{id: a, type: directory, path: /a, force: maybe}", "resources[0] (a).force", "maybe", "'maybe' is not a boolean")]
    public void A_field_of_the_wrong_shape_is_reported_at_its_value(string flow, string field, string at, string says) =>
        AssertResourceError(flow, field, at, says);

    [Theory]
    [InlineData("manifest: web\nresources: {a: b}\n", 2, 12, "resources", "must be a list of resources")]
    [InlineData("manifest: web\nresources:\n  - just-a-name\n", 3, 5, "resources[0]", "a resource is a mapping")]
    [InlineData("manifest: web\ntarget: [web]\n", 2, 9, "target", "must be a mapping")]
    [InlineData("manifest: web\nvars: [1, 2]\n", 2, 7, "vars", "must be a mapping")]
    [InlineData("manifest: web\ntarget:\n  roles: [web, [edge]]\n", 3, 16, "target.roles[1]", "must be a string")]
    public void A_section_of_the_wrong_shape_is_reported_at_its_value(string yaml, int line, int column, string field, string says) =>
        OnlyErrorIn(yaml).AssertAt(line, column, field, says);

    [Fact]
    public void A_duplicate_id_is_reported_at_its_second_use()
    {
        var error = OnlyErrorIn("""
            manifest: web
            resources:
              - id: conf
                type: file
                path: /a
              - id: conf
                type: file
                path: /b
            """);

        error.AssertAt(6, 9, "resources[1] (conf).id", "duplicate id 'conf'");
    }

    [Fact]
    public void Every_resource_without_an_id_is_reported()
    {
        var errors = ErrorsIn("""
            manifest: web
            resources:
              - type: file
                path: /a
              - type: file
                path: /b
            """);

        Assert.Equal(
            [(3, "resources[0].id"), (5, "resources[1].id")],
            errors.Select(e => (e.Line, e.Field)));
    }

    [Fact]
    public void Two_resources_managing_one_path_are_refused_at_the_second_path()
    {
        var error = OnlyErrorIn("""
            manifest: web
            resources:
              - id: conf
                type: file
                path: /etc/app.conf
              - id: conf-dir
                type: directory
                path: /etc/app.conf
            """);

        error.AssertAt(8, 11, "resources[1] (conf-dir).path", "'/etc/app.conf' is already managed by 'conf'");
    }

    [Fact]
    public void Requiring_an_id_that_is_not_in_the_manifest_is_reported_at_that_entry()
    {
        var error = OnlyErrorIn("""
            manifest: web
            resources:
              - id: dir
                type: directory
                path: /d
              - id: conf
                type: file
                path: /d/c
                requires:
                  - dir
                  - dri
            """);

        error.AssertAt(11, 9, "resources[1] (conf).requires", "'dri' is not a resource of this manifest");
    }

    [Fact]
    public void A_dependency_cycle_is_reported_once_naming_the_cycle()
    {
        var error = OnlyErrorIn("""
            manifest: web
            resources:
              - id: a
                type: file
                path: /a
                requires: [b]
              - id: b
                type: file
                path: /b
                requires: [a]
            """);

        error.AssertAt(6, 16, "resources[0] (a).requires", "dependency cycle: a -> b -> a");
    }

    [Theory]
    [InlineData("a -> a", "{id: a, type: file, path: /a, requires: [a]}")]
    [InlineData("a -> b -> c -> a",
        "{id: a, type: file, path: /a, requires: [b]}",
        "{id: b, type: file, path: /b, requires: [c]}",
        "{id: c, type: file, path: /c, requires: [a]}")]
    [InlineData("b -> c -> b",
        "{id: a, type: file, path: /a, requires: [b]}",
        "{id: b, type: file, path: /b, requires: [c]}",
        "{id: c, type: file, path: /c, requires: [b]}")]
    public void The_cycle_message_lists_the_ids_around_the_cycle(string cycle, params string[] resources)
    {
        var yaml = "manifest: web\nresources:\n" + string.Concat(resources.Select(r => $"  - {r}\n"));

        Assert.EndsWith($"dependency cycle: {cycle}", OnlyErrorIn(yaml).Message);
    }

    [Theory]
    [InlineData("manifest: web\nresources:\n  - id: a\n    content: \"never closed\n", 4, 14, "found unexpected end of stream")]
    [InlineData("manifest: web\nresources: []\nmanifest: app\n", 3, 1, "Duplicate key")]
    [InlineData("manifest: web\n  resources: []\n", 2, 12, "invalid mapping")]
    [InlineData("manifest: web\nresources:\n  - id: a\n    requires: [b\n  - id: b\n", 5, 3, "is a bracket left open?")]
    // A key left out in a nested block mapping: YamlDotNet's node builder threw ArgumentException (found by ParserFuzzTests).
    [InlineData("manifest: web\ntarget:\n  labels:\n    : prod\n", 4, 5, "a mapping entry has no key")]
    [InlineData("manifest: web\nresources:\n  - : file\n", 3, 5, "a mapping entry has no key")]
    // Two \u escapes that are surrogate halves but no pair: YamlDotNet threw ArgumentOutOfRangeException (found by ParserFuzzTests).
    [InlineData("manifest: web\nvars: {x: \"\\uD800\\uD800\"}\n", 2, 24, "do not pair up")]
    [InlineData("manifest: web\nvars: {x: \"\\uDC00\\uD800\"}\n", 2, 24, "do not pair up")]
    public void Malformed_yaml_is_reported_with_the_line_where_it_goes_wrong(string yaml, int line, int column, string says)
    {
        var error = OnlyErrorIn(yaml);

        error.AssertAt(line, column, "", says);
        Assert.StartsWith("invalid YAML: ", error.Message);
    }

    // Attribute strings cannot hold half a surrogate pair (they are stored as UTF-8): {0} stands for it.
    [Theory]
    [InlineData("manifest: web\nvars:\n  x: 'a{0}'\n", 0xD800, 3, 8)]
    [InlineData("manifest: web\r\nresources:\r\n  - {{id: f, type: file, path: /f, content: \"\U0001F389 {0}\"}}\r\n", 0xDC00, 3, 48)]
    public void Half_a_surrogate_pair_in_the_text_is_refused_where_it_is_rather_than_stored_as_U_FFFD(string template, int half, int line, int column) =>
        OnlyErrorIn(string.Format(template, (char)half)).AssertAt(line, column, "", $"U+{half:X4} is half of a UTF-16 surrogate pair");

    [Theory]
    [InlineData("")]
    [InlineData("\n\n   \n")]
    [InlineData("# nothing but a comment\n")]
    public void An_empty_file_is_not_a_manifest(string yaml) =>
        OnlyErrorIn(yaml).AssertWholeFile("the file is empty");

    [Fact]
    public void A_file_holds_exactly_one_document() =>
        OnlyErrorIn("manifest: web\n---\nmanifest: app\n").AssertWholeFile("exactly one YAML document");

    [Theory]
    [InlineData("- manifest: web\n")]
    [InlineData("just some text\n")]
    [InlineData("[1, 2]\n")]
    public void The_root_must_be_a_mapping(string yaml) =>
        OnlyErrorIn(yaml).AssertAt(1, 1, "", "a manifest is a mapping");

    [Fact]
    public void Every_error_in_a_file_is_reported_not_just_the_first()
    {
        var errors = ErrorsIn("""
            manifest: Web
            resources:
              - id: conf
                type: file
                path: etc/app.conf
                mode: "999"
                mdoe: "0644"
              - id: svc
                type: daemon
            """);

        Assert.Equal(
            [(1, "manifest"), (5, "resources[0] (conf).path"), (6, "resources[0] (conf).mode"), (7, "resources[0] (conf).mdoe"), (9, "resources[1] (svc).type")],
            errors.Select(e => (e.Line, e.Field)));
    }

    [Fact]
    public void The_exception_message_lists_every_error_as_file_line_column_field_and_message()
    {
        var exception = Assert.Throws<ManifestException>(() => ManifestParser.Parse("manifest: Web\nresource: []\n", "site/web.yaml"));

        Assert.Equal(
            [
                "site/web.yaml:1:11: manifest: 'Web' is not a valid name (lowercase letters, digits, '.', '_', '-'; at most 63)",
                "site/web.yaml:2:1: resource: unknown field (expected one of: manifest, resources, rollout, target, vars)",
            ],
            exception.Message.Split(Environment.NewLine));
    }

    [Fact]
    public void An_error_without_a_position_names_only_the_file() =>
        Assert.Equal("site/web.yaml: the file is empty", OnlyErrorIn("").ToString());
}
