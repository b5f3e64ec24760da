namespace Mesh.Cli.Tests;

/// <summary><c>mesh run</c> refuses a bad task itself, naming the option, before it asks any node.</summary>
public sealed class RunInputTests
{
    [Theory]
    [InlineData("no command: give one after --", "run")]
    [InlineData("no command: give one after --", "run", "--", "")]
    [InlineData("the target is empty", "run", "--target", "", "--", "true")]
    [InlineData("a target is a mapping", "run", "--target", "[web]", "--", "true")]
    [InlineData("--target:1:", "run", "--target", "{roles: [web], color: red}", "--", "true")]
    [InlineData("--timeout 'soon' is not a duration", "run", "--timeout", "soon", "--", "true")]
    [InlineData("must be positive and at most 7 days", "run", "--ttl", "200h", "--", "true")]
    [InlineData("--batch -1: must be 0 (no limit) or more", "run", "--batch", "-1", "--", "true")]
    [InlineData("--cwd 'srv': must be an absolute path", "run", "--cwd", "srv", "--", "true")]
    [InlineData("--user 'Bad User': not a user name", "run", "--user", "Bad User", "--", "true")]
    [InlineData("--script /no/such/script.sh", "run", "--script", "/no/such/script.sh")]
    [InlineData("give a command after -- or --script FILE, not both", "run", "--script", "/etc/hostname", "--", "true")]
    [InlineData("--secret '=...': expected NAME=VALUE", "run", "--secret", "=PW", "--", "true")]
    public async Task A_bad_task_is_refused_with_exit_2_naming_the_option_without_calling_the_node(string says, params string[] command)
    {
        var (code, _, err) = await InProcessCli.Run(["--api", InProcessCli.DeadApi(), .. command]);

        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains(says, err);
        Assert.DoesNotContain("cannot reach", err);
    }
}
