namespace Mesh.Cli.Tests;

/// <summary>The CLI's own behaviour: exit codes and messages when the input or the node is wrong.</summary>
public sealed class CliInputTests
{
    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => InProcessCli.Run(args);

    private static string DeadApi() => InProcessCli.DeadApi();

    [Theory]
    [InlineData("members")]
    [InlineData("list")]
    [InlineData("status")]
    [InlineData("get", "web")]
    [InlineData("events")]
    public async Task An_unreachable_node_is_named_and_exits_3(params string[] command)
    {
        var api = DeadApi();

        var (code, _, err) = await Run(["--api", api, .. command]);

        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains($"cannot reach the control API at {api}", err);
    }

    [Fact]
    public async Task Json_mode_reports_the_error_as_json_too()
    {
        var (code, output, _) = await Run("--api", DeadApi(), "members", "--json");

        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.StartsWith("{\"error\":\"cannot reach", output.Trim());
    }

    [Fact]
    public async Task Pushing_a_missing_file_names_it_and_exits_2_without_calling_the_node()
    {
        var (code, _, err) = await Run("--api", DeadApi(), "push", "/no/such/manifest.yaml");

        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains("/no/such/manifest.yaml", err);
    }

    [Theory]
    [InlineData("push", "site.yaml")]
    [InlineData("delete", "site")]
    [InlineData("rollback", "site", "--to", "abc123")]
    public async Task A_bad_ack_level_is_named_and_exits_2_without_calling_the_node(params string[] command)
    {
        var (code, _, err) = await Run(["--api", DeadApi(), .. command, "--ack", "sometimes"]);

        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains("--ack 'sometimes' is not one of local, majority, all", err);
    }

    [Fact]
    public async Task An_unreadable_token_file_is_named_and_exits_2()
    {
        var (code, _, err) = await Run("--api", DeadApi(), "--token-file", "/no/such/token", "members");

        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains("--token-file /no/such/token", err);
    }

    [Fact]
    public async Task An_unknown_command_or_flag_exits_2()
    {
        Assert.Equal(ExitCodes.Invalid, (await Run("frobnicate")).Code);
        Assert.Equal(ExitCodes.Invalid, (await Run("members", "--no-such-flag")).Code);
        Assert.Equal(ExitCodes.Invalid, (await Run("push")).Code);
    }

    [Fact]
    public async Task A_bad_timeout_is_refused_before_anything_is_sent()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "manifest: x\n");
            var (code, _, err) = await Run("--api", DeadApi(), "push", file, "--wait", "--timeout", "soon");

            Assert.Equal(ExitCodes.Invalid, code);
            Assert.Contains("--timeout 'soon' is not a duration", err);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("45", 45_000)]
    [InlineData("1.5s", 1_500)]
    public void Durations_read_as_operators_write_them(string text, double milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Durations.Parse(text, "--timeout"));

    [Theory]
    [InlineData("")]
    [InlineData("-5s")]
    [InlineData("0")]
    [InlineData("fast")]
    public void Nonsense_durations_are_refused(string text) =>
        Assert.Equal(ExitCodes.Invalid, Assert.Throws<CliException>(() => Durations.Parse(text, "--timeout")).ExitCode);
}
