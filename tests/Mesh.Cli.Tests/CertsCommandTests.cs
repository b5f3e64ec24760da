using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Mesh.Cli.Tests;

/// <summary><c>mesh certs</c>: the files it makes, their modes, and its refusals.</summary>
public sealed class CertsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-certs-").FullName;

    private string In(string relative) => Path.Combine(_dir, relative);

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => InProcessCli.Run(args);

    private async Task<string> MakeCa(string name = "ca")
    {
        var (code, _, err) = await Run("certs", "ca", "--out", In(name));
        Assert.True(code == 0, err);
        return In(name);
    }

    private static UnixFileMode Mode(string path) => File.GetUnixFileMode(path);

    [Fact]
    public async Task Ca_writes_a_CA_certificate_and_a_private_key_only_its_owner_can_read()
    {
        var (code, output, _) = await Run("certs", "ca", "--out", In("ca"), "--name", "acme fleet");

        Assert.Equal(ExitCodes.Ok, code);
        using var authority = X509Certificate2.CreateFromPemFile(In("ca/ca.crt"), In("ca/ca.key"));
        Assert.Equal("CN=acme fleet", authority.Subject);
        Assert.True(authority.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, Mode(In("ca/ca.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, Mode(In("ca/ca.crt")));
        Assert.Equal(["ca.crt", "ca.key"], Directory.GetFiles(In("ca")).Select(Path.GetFileName).Order());
        Assert.Contains(In("ca/ca.crt"), output);
        Assert.Contains("mesh certs node NAME --ca " + In("ca"), output);
    }

    [Fact]
    public async Task Node_writes_a_certificate_the_CA_signed_for_server_and_client_use_and_prints_the_node_flags()
    {
        var ca = await MakeCa();

        var (code, output, err) = await Run("certs", "node", "web-1", "--ca", ca, "--out", In("nodes"), "--host", "10.0.0.21", "--host", "web-1.example.org");

        Assert.True(code == ExitCodes.Ok, err);
        using var certificate = X509Certificate2.CreateFromPemFile(In("nodes/web-1.crt"), In("nodes/web-1.key"));
        using var authority = X509CertificateLoader.LoadCertificateFromFile(In("ca/ca.crt"));
        Assert.Equal("CN=web-1", certificate.Subject);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(certificate), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value);
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], usages.Order());
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["10.0.0.21"], names.EnumerateIPAddresses().Select(a => a.ToString()));
        Assert.Equal(["web-1.example.org"], names.EnumerateDnsNames());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, Mode(In("nodes/web-1.key")));
        Assert.Contains($"--tls-cert {In("nodes/web-1.crt")} --tls-key {In("nodes/web-1.key")} --tls-ca {In("ca/ca.crt")}", output);
        Assert.Contains("mesh.tls {", output);
    }

    [Fact]
    public async Task Json_describes_what_was_written()
    {
        var ca = await MakeCa();

        var (code, output, _) = await Run("certs", "node", "db-1", "--ca", ca, "--out", In("nodes"), "--days", "30", "--json");

        Assert.Equal(ExitCodes.Ok, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("CN=db-1", json.RootElement.GetProperty("subject").GetString());
        Assert.Equal(In("nodes/db-1.key"), json.RootElement.GetProperty("key").GetString());
        Assert.Equal(64, json.RootElement.GetProperty("fingerprint").GetString()!.Length);
        var days = (json.RootElement.GetProperty("notAfter").GetDateTimeOffset() - DateTimeOffset.UtcNow).TotalDays;
        Assert.InRange(days, 29, 30);
    }

    [Fact]
    public async Task Existing_files_are_not_overwritten_without_force()
    {
        var ca = await MakeCa();
        var before = File.ReadAllText(In("ca/ca.key"));

        var (code, _, err) = await Run("certs", "ca", "--out", ca);

        Assert.Equal(ExitCodes.Conflict, code);
        Assert.Contains($"{In("ca/ca.crt")} already exists", err);
        Assert.Equal(before, File.ReadAllText(In("ca/ca.key")));

        Assert.Equal(ExitCodes.Ok, (await Run("certs", "ca", "--out", ca, "--force")).Code);
        Assert.NotEqual(before, File.ReadAllText(In("ca/ca.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, Mode(In("ca/ca.key")));
    }

    [Fact]
    public async Task A_missing_or_unreadable_CA_is_named_and_exits_2()
    {
        var (code, _, err) = await Run("certs", "node", "a", "--ca", In("nowhere"), "--out", In("nodes"));
        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains($"{In("nowhere/ca.crt")}: no such file", err);

        var ca = await MakeCa();
        File.WriteAllText(In("ca/ca.key"), "not a key\n");
        (code, _, err) = await Run("certs", "node", "a", "--ca", ca, "--out", In("nodes"));
        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains($"cannot read the CA from {In("ca/ca.crt")} and {In("ca/ca.key")}", err);
        Assert.False(Directory.Exists(In("nodes")));
    }

    [Fact]
    public async Task A_node_certificate_cannot_serve_as_the_CA()
    {
        var ca = await MakeCa();
        Assert.Equal(ExitCodes.Ok, (await Run("certs", "node", "a", "--ca", ca, "--out", In("fake"))).Code);
        File.Move(In("fake/a.crt"), In("fake/ca.crt"));
        File.Move(In("fake/a.key"), In("fake/ca.key"));

        var (code, _, err) = await Run("certs", "node", "b", "--ca", In("fake"), "--out", In("nodes"));

        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains("is not a CA certificate", err);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("")]
    public async Task A_name_that_cannot_name_files_is_refused(string name)
    {
        var ca = await MakeCa();

        var (code, _, _) = await Run("certs", "node", name, "--ca", ca, "--out", In("nodes"));

        Assert.Equal(ExitCodes.Invalid, code);
        Assert.False(Directory.Exists(In("nodes")));
    }

    [Fact]
    public async Task Bad_flags_exit_2()
    {
        var ca = await MakeCa();
        Assert.Equal(ExitCodes.Invalid, (await Run("certs", "node", "a", "--ca", ca, "--out", In("n"), "--days", "0")).Code);
        Assert.Equal(ExitCodes.Invalid, (await Run("certs", "node", "a", "--ca", ca, "--out", In("n"), "--host", "not a host")).Code);
        Assert.Equal(ExitCodes.Invalid, (await Run("certs", "node", "a", "--ca", ca)).Code);
        Assert.Equal(ExitCodes.Invalid, (await Run("certs", "ca")).Code);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
