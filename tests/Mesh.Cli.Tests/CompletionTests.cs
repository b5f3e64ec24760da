using System.Diagnostics;

namespace Mesh.Cli.Tests;

/// <summary>
/// Shell completion: <c>mesh __complete</c> answers from the command tree (and from the node,
/// see Mesh.EndToEnd.Tests' CompletionTests), and <c>mesh completion SHELL</c> prints scripts
/// their shells accept.
/// </summary>
public sealed class CompletionTests
{
    private static async Task<string[]> Complete(params string[] words)
    {
        var (code, output, err) = await InProcessCli.Run(["__complete", "--", .. words]);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).ToArray();
    }

    [Fact]
    public async Task An_empty_line_offers_every_command_and_no_flags()
    {
        var offered = await Complete("");

        Assert.Contains("push", offered);
        Assert.Contains("members", offered);
        Assert.Contains("completion", offered);
        Assert.DoesNotContain("__complete", offered);
        Assert.DoesNotContain(offered, o => o.StartsWith('-'));
    }

    [Fact]
    public async Task A_prefix_narrows_the_commands()
    {
        Assert.Equal(["get"], await Complete("g"));
        Assert.Equal(["delete", "diff"], await Complete("d"));
    }

    [Fact]
    public async Task A_dash_offers_the_command_flags_and_the_global_ones()
    {
        var offered = await Complete("get", "--");

        Assert.Contains("--revision", offered);
        Assert.Contains("--api", offered);
        Assert.Contains("--json", offered);
        Assert.Equal(["--revision"], await Complete("get", "--rev"));
    }

    [Fact]
    public async Task A_flag_already_given_is_not_offered_again_and_does_not_swallow_the_next_word()
    {
        var offered = await Complete("members", "--json", "--");

        Assert.DoesNotContain("--json", offered);
        Assert.Contains("--api", offered);
        Assert.Empty(await Complete("members", "--json", ""));
    }

    [Fact]
    public async Task After_a_bare_flag_a_command_s_own_options_are_offered()
    {
        var offered = await Complete("audit", "--json", "--");

        Assert.Contains("--node", offered);
        Assert.Contains("--since", offered);
        Assert.DoesNotContain("--json", offered);
        Assert.Contains("--target", await Complete("members", "--facts", "--"));
    }

    [Fact]
    public async Task Fixed_values_are_offered()
    {
        Assert.Equal(["bash", "fish", "zsh"], await Complete("completion", ""));
    }

    [Theory]
    [InlineData("push", "")]
    [InlineData("diff", "examples/")]
    [InlineData("--token-file", "")]
    [InlineData("get", "web", "--key", "")]
    public async Task A_path_is_left_to_the_shell(params string[] words)
    {
        Assert.Equal([":files"], await Complete(words));
    }

    [Theory]
    [InlineData("get", "")]
    [InlineData("converge", "")]
    [InlineData("audit", "--node", "")]
    public async Task An_unreachable_node_offers_no_names_at_once_and_says_nothing(params string[] words)
    {
        var clock = Stopwatch.StartNew();

        var offered = await Complete(["--api", InProcessCli.DeadApi(), .. words]);

        Assert.Empty(offered);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Help_does_not_ask_a_node_for_names()
    {
        var (code, output, _) = await InProcessCli.Run("--api", InProcessCli.DeadApi(), "audit", "--help");

        Assert.Equal(0, code);
        Assert.Contains("--node <node>", output);
    }

    public static TheoryData<string, string[]> Shells => new()
    {
        { "bash", ["bash", "-n"] },
        { "zsh", ["zsh", "-n"] },
        { "fish", ["fish", "--no-execute"] },
    };

    [SkippableTheory]
    [MemberData(nameof(Shells))]
    public async Task The_script_passes_its_shells_syntax_check(string shell, string[] check)
    {
        var (code, script, _) = await InProcessCli.Run("completion", shell);
        Assert.Equal(0, code);
        Assert.Contains("__complete", script);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, script);
            var info = new ProcessStartInfo(check[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in check[1..]) info.ArgumentList.Add(a);
            info.ArgumentList.Add(file);
            Process process;
            try
            {
                process = Process.Start(info)!;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                throw new SkipException($"{shell} is not installed (tests/apt-packages.txt lists it)");
            }
            using (process)
            {
                var errors = await process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                Assert.True(process.ExitCode == 0, $"{shell} rejects the script: {errors}");
            }
        }
        finally
        {
            File.Delete(file);
        }
    }
}
