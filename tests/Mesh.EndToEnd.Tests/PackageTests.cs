using System.Text;
using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The Debian package packaging/build-deb.sh makes: built once for the class (two
/// self-contained publishes take a while), then read with dpkg-deb, its unit verified by
/// systemd, its programs run from the extracted tree, and (on CI only) installed for real.
/// </summary>
[Collection(PackageLane.Name)]
public sealed class PackageTests(DebPackage package) : IClassFixture<DebPackage>
{
    [Fact]
    public async Task The_package_holds_the_programs_unit_configuration_data_directory_and_completions_with_their_modes()
    {
        var listing = await DebPackage.RunChecked("dpkg-deb", "--contents", package.Deb);
        // "-rwxr-xr-x root/root  76237708 2026-12-03 23:30 ./usr/bin/mesh" -> "./usr/bin/mesh" = "-rwxr-xr-x root/root"
        var entries = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => f[^1], f => $"{f[0]} {f[1]}");

        Assert.Equal("-rwxr-xr-x root/root", entries["./usr/bin/mesh-node"]);
        Assert.Equal("-rwxr-xr-x root/root", entries["./usr/bin/mesh"]);
        Assert.Equal("-rw-r--r-- root/root", entries["./lib/systemd/system/mesh-node.service"]);
        Assert.Equal("-rw-r--r-- root/root", entries["./etc/mesh/cluster.hocon"]);
        // Owned by the mesh user once postinst made it (see the dpkg -i test).
        Assert.Equal("drwxr-x--- root/root", entries["./var/lib/mesh/"]);
        Assert.Equal("-rw-r--r-- root/root", entries["./usr/share/bash-completion/completions/mesh"]);
        Assert.Equal("-rw-r--r-- root/root", entries["./usr/share/zsh/vendor-completions/_mesh"]);
        Assert.Equal("-rw-r--r-- root/root", entries["./usr/share/fish/vendor_completions.d/mesh.fish"]);
        Assert.DoesNotContain(entries.Keys, p => p.EndsWith(".dll", StringComparison.Ordinal) || p.EndsWith(".json", StringComparison.Ordinal));

        Assert.Equal("mesh", await Field("Package"));
        Assert.Equal(DebPackage.Version, await Field("Version"));
        Assert.Equal("amd64", await Field("Architecture"));
        Assert.Contains("libssl3", await Field("Depends"));
        Assert.Equal(["/etc/mesh/cluster.hocon"], File.ReadAllLines(Path.Combine(package.Control, "conffiles")));
        foreach (var script in new[] { "postinst", "prerm", "postrm" })
            Assert.Equal(UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(package.Control, script)) & UnixFileMode.UserExecute);

        // The completion files are what the packaged CLI prints, so they name its helper command.
        Assert.Contains("__complete", File.ReadAllText(package.Installed("/usr/share/bash-completion/completions/mesh")));
        var hocon = File.ReadAllText(package.Installed("/etc/mesh/cluster.hocon"));
        Assert.Contains("root = \"/\"", hocon);
        Assert.Contains("data-dir = \"/var/lib/mesh\"", hocon);
        Assert.Contains("api = \"127.0.0.1:4711\"", hocon);
    }

    private async Task<string> Field(string name) => (await DebPackage.RunChecked("dpkg-deb", "--field", package.Deb, name)).Trim();

    [Theory]
    [InlineData("/usr/bin/mesh-node", "Microsoft.AspNetCore.dll")]
    [InlineData("/usr/bin/mesh", "System.Private.CoreLib.dll")]
    public void The_programs_carry_the_runtime_so_the_host_needs_no_dotnet(string program, string runtimeFile)
    {
        // The node, a self-contained single file, lists the runtime's assemblies in its bundle
        // manifest; the CLI, compiled ahead of time, carries the runtime linked in, its core
        // library named in its metadata. A framework-dependent program would name neither.
        var bytes = File.ReadAllBytes(package.Installed(program));
        Assert.Equal([0x7F, (byte)'E', (byte)'L', (byte)'F'], bytes[..4]);
        Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(runtimeFile)) >= 0, $"{program} does not bundle {runtimeFile}");
    }

    [Fact]
    public void The_cli_is_compiled_ahead_of_time_and_never_looks_for_a_dotnet_host()
    {
        // Every program .NET starts through its host (apphost, single-file host) names libhostfxr;
        // a NativeAOT program has no host to find. The node keeps its host: it runs on the JIT.
        static bool NamesHost(byte[] bytes) => bytes.AsSpan().IndexOf("libhostfxr"u8) >= 0;

        Assert.False(NamesHost(File.ReadAllBytes(package.Installed("/usr/bin/mesh"))), "/usr/bin/mesh is not a NativeAOT program");
        Assert.True(NamesHost(File.ReadAllBytes(package.Installed("/usr/bin/mesh-node"))), "the check itself: mesh-node names its host");
    }

    [SkippableFact]
    public async Task The_unit_passes_systemd_analyze_verify()
    {
        Skip.If(!DebPackage.OnPath("systemd-analyze"), "needs systemd-analyze (Debian's systemd package)");
        var unit = File.ReadAllText(package.Installed("/lib/systemd/system/mesh-node.service"));
        Assert.Matches(@"(?m)^ExecStart=/usr/bin/mesh-node .*/etc/mesh/cluster\.hocon", unit);
        // verify insists that ExecStart names an executable; this host has none at /usr/bin/mesh-node,
        // so the copy verified names the extracted one. Everything else is the packaged unit.
        var copy = Path.Combine(package.WorkDir, "verify", "mesh-node.service");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.WriteAllText(copy, unit.Replace("/usr/bin/mesh-node", package.Installed("/usr/bin/mesh-node")));

        var verified = await Binaries.RunToExitAsync("systemd-analyze", ["verify", copy]);

        // verify exits 0 on unknown keys and bad values too; it only says so on stderr.
        Assert.True(verified.ExitCode == 0 && verified.Err.Trim() == "", verified.ToString());
    }

    [Fact]
    public async Task The_packaged_node_starts_on_the_shipped_configuration_and_the_packaged_cli_sees_it_up()
    {
        var run = Directory.CreateTempSubdirectory("mesh-package-run-").FullName;
        var api = $"127.0.0.1:{Binaries.FreePort()}";
        var node = new System.Diagnostics.ProcessStartInfo(package.Installed("/usr/bin/mesh-node"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = run,
        };
        // The shipped file, with this test's own name, ports and directories over it.
        foreach (var a in new[]
                 {
                     "--config", package.Installed("/etc/mesh/cluster.hocon"), "--name", "packaged", "--port", Binaries.FreePort().ToString(),
                     "--api", api, "--data-dir", Path.Combine(run, "data"), "--root", Path.Combine(run, "root"),
                 })
            node.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(node)!;
        var log = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            ProcessResult members;
            do
            {
                Assert.False(process.HasExited, $"mesh-node exited with {(process.HasExited ? process.ExitCode : 0)}:\n{log}");
                members = await Binaries.RunToExitAsync(package.Installed("/usr/bin/mesh"), ["--api", api, "members", "--json"], TimeSpan.FromSeconds(30));
                if (members.ExitCode == 0 && members.Json<MemberInfo[]>().Any(m => m is { Self: true, Name: "packaged", Status: "up" })) return;
                await Task.Delay(200);
            }
            while (DateTime.UtcNow < deadline);
            Assert.Fail($"the packaged node never showed up:\n{members}\n{log}");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(run, recursive: true);
        }
    }

    /// <summary>
    /// The one test of the maintainer scripts: they run as root on the real system, so only on
    /// a throwaway machine (CI, or MESH_TEST_DPKG_INSTALL=1) where no mesh package, user or
    /// group exists yet; afterwards the package is purged and the user and group deleted, so
    /// the machine is left as it was.
    /// </summary>
    [SkippableFact]
    public async Task Dpkg_install_creates_the_mesh_user_and_its_data_directory_and_purge_removes_it()
    {
        Skip.If(Environment.UserName != "root", "installs for real, which needs root");
        Skip.If(Environment.GetEnvironmentVariable("CI") != "true" && Environment.GetEnvironmentVariable("MESH_TEST_DPKG_INSTALL") != "1",
            "installs into this machine's /usr and /etc: only on CI (CI=true) or with MESH_TEST_DPKG_INSTALL=1");
        var known = await Binaries.RunToExitAsync("dpkg-query", ["--show", "--showformat=${Status}", "mesh"]);
        Skip.If(known.ExitCode == 0 && !known.Out.EndsWith("not-installed", StringComparison.Ordinal),
            $"dpkg knows a mesh package on this machine ({known.Out}); it is left alone");
        Skip.If(await Exists("passwd", "mesh") || await Exists("group", "mesh"), "a mesh user or group exists on this machine; it is left alone");
        try
        {
            await DebPackage.RunChecked("dpkg", "--install", package.Deb);

            Assert.True(await Exists("passwd", "mesh"));
            Assert.Equal("drwxr-x--- mesh:mesh", await Stat("/var/lib/mesh"));
            Assert.Equal("-rwxr-xr-x root:root", await Stat("/usr/bin/mesh-node"));
            Assert.Equal("-rw-r--r-- root:root", await Stat("/etc/mesh/cluster.hocon"));
            Assert.Equal("nologin", Path.GetFileName((await DebPackage.RunChecked("getent", "passwd", "mesh")).Trim().Split(':')[^1]));

            // A reinstall (as an upgrade does) keeps the administrator's configuration and the node's state.
            File.AppendAllText("/etc/mesh/cluster.hocon", "mesh.labels { edited = yes }\n");
            File.WriteAllText("/var/lib/mesh/state", "kept");
            await DebPackage.RunChecked("dpkg", "--install", package.Deb);
            Assert.Contains("edited = yes", File.ReadAllText("/etc/mesh/cluster.hocon"));
            Assert.Equal("kept", File.ReadAllText("/var/lib/mesh/state"));

            await DebPackage.RunChecked("dpkg", "--purge", "mesh");
            Assert.False(File.Exists("/usr/bin/mesh-node"));
            Assert.False(Directory.Exists("/var/lib/mesh"));
            Assert.False(Directory.Exists("/etc/mesh"));
        }
        finally
        {
            await Binaries.RunToExitAsync("dpkg", ["--purge", "mesh"]);
            await Binaries.RunToExitAsync("userdel", ["mesh"]);
            await Binaries.RunToExitAsync("groupdel", ["mesh"]);
        }
    }

    private static async Task<bool> Exists(string database, string name) => (await Binaries.RunToExitAsync("getent", [database, name])).ExitCode == 0;

    private static async Task<string> Stat(string path) => (await DebPackage.RunChecked("stat", "--format=%A %U:%G", path)).Trim();
}

/// <summary>
/// One package per test run: packaging/build-deb.sh into a temporary directory, extracted
/// beside it (the files under <see cref="Installed"/>, the control files under <see cref="Control"/>).
/// </summary>
public sealed class DebPackage : IAsyncLifetime
{
    public const string Version = "0.0.0+test";

    public string WorkDir { get; } = Directory.CreateTempSubdirectory("mesh-package-").FullName;
    public string Deb => Path.Combine(WorkDir, $"mesh_{Version}_amd64.deb");
    public string Control => Path.Combine(WorkDir, "control");

    /// <summary>Where <paramref name="path"/> of the package is in the extracted tree.</summary>
    public string Installed(string path) => Path.Combine(WorkDir, "tree", path.TrimStart('/'));

    public async Task InitializeAsync()
    {
        // Publishing two self-contained programs, the CLI linked ahead of time: one to two minutes
        // on a quiet machine. The node's ReadyToRun compilation is left out (--no-ready-to-run): it
        // only makes start-up faster, the code is the same, and it would take minutes more.
        var built = await Binaries.RunToExitAsync("bash",
            [Path.Combine(Binaries.RepoRoot, "packaging", "build-deb.sh"), "--version", Version, "--out", WorkDir, "--no-ready-to-run"], TimeSpan.FromMinutes(10));
        Assert.True(built.ExitCode == 0 && built.Out.TrimEnd().EndsWith(Deb, StringComparison.Ordinal), built.ToString());
        await RunChecked("dpkg-deb", "--extract", Deb, Path.Combine(WorkDir, "tree"));
        await RunChecked("dpkg-deb", "--control", Deb, Control);
    }

    /// <summary>Runs a tool that must succeed, and returns what it printed.</summary>
    public static async Task<string> RunChecked(string tool, params string[] args)
    {
        var result = await Binaries.RunToExitAsync(tool, args, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {result}");
        return result.Out;
    }

    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, program)));

    public Task DisposeAsync()
    {
        Directory.Delete(WorkDir, recursive: true);
        return Task.CompletedTask;
    }
}
