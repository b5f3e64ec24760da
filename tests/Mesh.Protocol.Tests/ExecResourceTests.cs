using System.Text;
using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>The <c>exec</c> resource: its command in either form, its guards, and what is refused.</summary>
public sealed class ExecResourceTests
{
    private static ExecResource OnlyExec(string yaml) => (ExecResource)Assert.Single(Parse(yaml).Resources);

    private const string EveryField = """
        manifest: m
        resources:
          - id: migrate
            type: exec
            command: ["/usr/bin/app", "migrate", "--to", "it's latest"]
            cwd: /srv/app
            env: { APP_ENV: prod, EMPTY: "" }
            timeout: 90s
            creates: /srv/app/.migrated
            unless: ["/usr/bin/app", "status", "--quiet"]
            only_if: test -f /srv/app/app.conf
            refresh_only: true
        """;

    [Fact]
    public void Every_field_is_read()
    {
        var exec = OnlyExec(EveryField);

        Assert.Equal(ExecCommand.Arguments("/usr/bin/app", "migrate", "--to", "it's latest"), exec.Command);
        Assert.Null(exec.Command.ShellText);
        Assert.Equal("/srv/app", exec.Cwd);
        Assert.Equal(new Dictionary<string, string> { ["APP_ENV"] = "prod", ["EMPTY"] = "" }, exec.Env);
        Assert.Equal(TimeSpan.FromSeconds(90), exec.Timeout);
        Assert.Equal("/srv/app/.migrated", exec.Creates);
        Assert.Equal(ExecCommand.Arguments("/usr/bin/app", "status", "--quiet"), exec.Unless);
        Assert.Equal(ExecCommand.Shell("test -f /srv/app/app.conf"), exec.OnlyIf);
        Assert.True(exec.RefreshOnly);
        Assert.Null(exec.ManagedPath);
    }

    [Fact]
    public void A_command_string_runs_with_the_shell_and_the_rest_has_defaults()
    {
        var exec = OnlyExec("""
            manifest: m
            resources:
              - { id: hello, type: exec, command: "echo hello > /tmp/x" }
            """);

        Assert.Equal("echo hello > /tmp/x", exec.Command.ShellText);
        Assert.Equal(["/bin/sh", "-c", "echo hello > /tmp/x"], exec.Command.ToArgv());
        Assert.Equal(ExecResource.DefaultTimeout, exec.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(300), exec.Timeout);
        Assert.Null(exec.Cwd);
        Assert.Empty(exec.Env);
        Assert.Null(exec.Creates);
        Assert.Null(exec.Unless);
        Assert.Null(exec.OnlyIf);
        Assert.False(exec.RefreshOnly);
    }

    [Fact]
    public void An_argument_list_is_kept_argument_by_argument()
    {
        var exec = OnlyExec("""
            manifest: m
            resources:
              - id: say
                type: exec
                command:
                  - /bin/echo
                  - "two words; $(and no shell)"
            """);

        Assert.Equal(["/bin/echo", "two words; $(and no shell)"], exec.Command.ToArgv());
        Assert.Equal("/bin/echo 'two words; $(and no shell)'", exec.Command.ToString());
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("45", 45_000)]
    [InlineData("24h", 86_400_000)]
    public void A_timeout_is_a_duration_with_a_unit_or_plain_seconds(string text, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds),
            OnlyExec($"manifest: m\nresources:\n  - {{id: x, type: exec, command: 'true', timeout: '{text}'}}\n").Timeout);

    [Fact]
    public void A_missing_command_is_reported_at_the_resource() =>
        AssertResourceError("{id: run, type: exec, cwd: /srv}", "resources[0] (run).command", "{", "is required");

    [Theory]
    [InlineData("[]", "is an empty list")]
    [InlineData("''", "is empty")]
    [InlineData("'   '", "is empty")]
    [InlineData("{sh: x}", "must be a command: a string (run with /bin/sh -c) or a list of arguments")]
    [InlineData("~", "must be a command")]
    public void A_command_that_says_nothing_to_run_is_refused_at_its_value(string command, string says) =>
        AssertResourceError($"{{id: run, type: exec, command: {command}}}", "resources[0] (run).command", command, says);

    [Fact]
    public void An_argument_list_whose_program_is_empty_is_refused_at_that_item() =>
        AssertResourceError("{id: run, type: exec, command: ['', x]}", "resources[0] (run).command[0]", "''", "names no program");

    [Fact]
    public void An_argument_that_is_not_a_string_is_refused_at_that_item() =>
        AssertResourceError("{id: run, type: exec, command: [/bin/echo, [x]]}", "resources[0] (run).command[1]", "[x]", "must be a string");

    [Theory]
    [InlineData("0s")]
    [InlineData("0")]
    [InlineData("soon")]
    [InlineData("-5s")]
    [InlineData("5 s")]
    [InlineData("1.5.2s")]
    [InlineData("25h")]
    [InlineData("10d")]
    [InlineData("Infinity")]
    public void A_timeout_that_is_not_a_positive_duration_up_to_a_day_is_refused(string timeout) =>
        AssertResourceError($"{{id: run, type: exec, command: 'true', timeout: '{timeout}'}}", "resources[0] (run).timeout", $"'{timeout}'",
            $"'{timeout}' is not a timeout between 1ms and 24h");

    [Fact]
    public void An_unknown_field_is_reported_with_the_fields_exec_knows()
    {
        var error = OnlyErrorIn("""
            manifest: m
            resources:
              - id: run
                type: exec
                command: "true"
                onlyif: "false"
            """);

        error.AssertAt(6, 5, "resources[0] (run).onlyif", "unknown field (expected one of: ");
        Assert.Contains("only_if", error.Message);
        Assert.Contains("refresh_only", error.Message);
    }

    [Theory]
    [InlineData("cwd", "srv/app", "must be absolute")]
    [InlineData("creates", "/srv/../etc/done", "escapes the root")]
    public void Cwd_and_creates_are_manifest_paths(string field, string path, string says) =>
        AssertResourceError($"{{id: run, type: exec, command: 'true', {field}: '{path}'}}", $"resources[0] (run).{field}", $"'{path}'", says);

    [Theory]
    [InlineData("unless", "[]", "is an empty list")]
    [InlineData("only_if", "''", "is empty")]
    public void Guards_are_commands_checked_like_the_command(string field, string value, string says) =>
        AssertResourceError($"{{id: run, type: exec, command: 'true', {field}: {value}}}", $"resources[0] (run).{field}", value, says);

    [Fact]
    public void Env_is_a_mapping_of_names_without_equals_signs()
    {
        AssertResourceError("{id: run, type: exec, command: 'true', env: [A]}", "resources[0] (run).env", "[A]", "must be a mapping of strings");
        AssertResourceError("{id: run, type: exec, command: 'true', env: {'A=B': x}}", "resources[0] (run).env.A=B", "'A=B'", "is not an environment variable name");
    }

    [Fact]
    public void Refresh_only_is_a_boolean() =>
        AssertResourceError("{id: run, type: exec, command: 'true', refresh_only: sometimes}", "resources[0] (run).refresh_only", "sometimes",
            "'sometimes' is not a boolean");

    [Fact]
    public void Several_problems_are_all_reported_each_on_its_own_line()
    {
        var errors = ErrorsIn("""
            manifest: m
            resources:
              - id: run
                type: exec
                command: []
                timeout: forever
                creates: relative/path
            """);

        Assert.Equal(
            [(5, "resources[0] (run).command"), (6, "resources[0] (run).timeout"), (7, "resources[0] (run).creates")],
            errors.Select(e => (e.Line, e.Field)));
    }

    [Fact]
    public void The_canonical_form_parses_back_to_the_same_bytes()
    {
        var bytes = CanonicalForm.ToBytes(ManifestParser.Parse(EveryField, "x.yaml"));

        var again = CanonicalForm.ToBytes(CanonicalForm.FromBytes(bytes, "canonical"));

        Assert.Equal(Encoding.UTF8.GetString(bytes), Encoding.UTF8.GetString(again));
        var text = Encoding.UTF8.GetString(bytes);
        Assert.Contains("\"command\":[\"/usr/bin/app\",\"migrate\",\"--to\",\"it's latest\"]", text);
        Assert.Contains("\"only_if\":\"test -f /srv/app/app.conf\"", text);
        Assert.Contains("\"refresh_only\":\"true\"", text);
        Assert.Contains("\"timeout\":\"90s\"", text);
    }

    [Fact]
    public void The_default_timeout_is_spelt_out_in_the_canonical_form() =>
        Assert.Equal(
            """{"manifest":"m","resources":[{"command":"true","id":"run","timeout":"300s","type":"exec"}],"vars":{}}""",
            CanonicalOf(""));

    [Theory]
    [InlineData("timeout: 300s", "")]
    [InlineData("timeout: 1m", "timeout: 60")]
    [InlineData("timeout: 1500ms", "timeout: 1.5s")]
    [InlineData("refresh_only: false", "")]
    [InlineData("env: {}", "")]
    public void Equal_meaning_gives_equal_bytes(string one, string other) =>
        Assert.Equal(CanonicalOf(one), CanonicalOf(other));

    [Theory]
    [InlineData("command: \"true\"", "command: [\"true\"]")]
    [InlineData("command: /bin/true", "command: [/bin/true]")]
    [InlineData("timeout: 30s", "timeout: 31s")]
    public void A_different_meaning_gives_different_bytes(string one, string other) =>
        Assert.NotEqual(CanonicalOf(one), CanonicalOf(other));

    private static string CanonicalOf(string extra)
    {
        var command = extra.StartsWith("command:", StringComparison.Ordinal) ? "" : "    command: \"true\"\n";
        var yaml = $"manifest: m\nresources:\n  - id: run\n    type: exec\n{command}    {extra}\n";
        return Encoding.UTF8.GetString(CanonicalForm.ToBytes(ManifestParser.Parse(yaml, "x.yaml")));
    }
}
