using System.Security.Cryptography.X509Certificates;
using Mesh.Protocol.Security;

namespace Mesh.Node.Tests.Support;

/// <summary>
/// A fleet CA and the node certificates it signs, written to a temporary directory the way a
/// node reads them (PEM certificate and key, or PKCS#12 with a password file), with the
/// <c>mesh.tls</c> HOCON that points a node at them.
/// </summary>
public sealed class TestFleet : IDisposable
{
    private readonly TempDir _dir = new();

    public X509Certificate2 Authority { get; }
    public string AuthorityFile { get; }

    public TestFleet(string name = "test fleet CA")
    {
        // Backdated, so that certificates that ended hours ago can still be signed by it.
        Authority = FleetCertificates.CreateAuthority(name, TimeSpan.FromDays(3), DateTimeOffset.UtcNow - TimeSpan.FromDays(1));
        AuthorityFile = _dir[$"{Guid.NewGuid():N}-ca.crt"];
        File.WriteAllText(AuthorityFile, FleetCertificates.CertificatePem(Authority));
    }

    public string this[string file] => _dir[file];

    public X509Certificate2 Issue(string node, TimeSpan? validity = null, DateTimeOffset? now = null) =>
        FleetCertificates.IssueNode(Authority, node, ["127.0.0.1"], validity ?? TimeSpan.FromDays(1), now);

    /// <summary>Writes <c>NAME.crt</c> and <c>NAME.key</c>; returns their paths.</summary>
    public (string Certificate, string Key) WritePem(string node, X509Certificate2 certificate)
    {
        var (crt, key) = (_dir[node + ".crt"], _dir[node + ".key"]);
        File.WriteAllText(crt, FleetCertificates.CertificatePem(certificate));
        File.WriteAllText(key, FleetCertificates.PrivateKeyPem(certificate));
        return (crt, key);
    }

    /// <summary>Writes <c>NAME.pfx</c> protected by <paramref name="password"/>, and the password file; returns their paths.</summary>
    public (string Pfx, string PasswordFile) WritePfx(string node, X509Certificate2 certificate, string password)
    {
        var (pfx, passwordFile) = (_dir[node + ".pfx"], _dir[node + ".password"]);
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pkcs12, password));
        File.WriteAllText(passwordFile, password + "\n");
        return (pfx, passwordFile);
    }

    /// <summary>A node certificate of this fleet as PEM files, and the HOCON naming them and the CA.</summary>
    public string Hocon(string node, string? authorityFile = null)
    {
        var (crt, key) = WritePem(node, Issue(node));
        return $"mesh.tls {{ certificate = \"{crt}\", key = \"{key}\", ca = \"{authorityFile ?? AuthorityFile}\" }}";
    }

    /// <summary>The same as a PKCS#12 file with a password.</summary>
    public string HoconPfx(string node, string password)
    {
        var (pfx, passwordFile) = WritePfx(node, Issue(node), password);
        return $"mesh.tls {{ certificate = \"{pfx}\", password-file = \"{passwordFile}\", ca = \"{AuthorityFile}\" }}";
    }

    public void Dispose()
    {
        Authority.Dispose();
        _dir.Dispose();
    }
}
