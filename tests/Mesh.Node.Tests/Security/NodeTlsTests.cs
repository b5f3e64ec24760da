using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Mesh.Node.Configuration;
using Mesh.Node.Security;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Security;

namespace Mesh.Node.Tests.Security;

/// <summary>Loading mesh.tls and the rule for peers, without a cluster.</summary>
public sealed class NodeTlsTests : IDisposable
{
    private readonly TestFleet _fleet = new();

    private TlsSettings Pem(string node, X509Certificate2? certificate = null)
    {
        var (crt, key) = _fleet.WritePem(node, certificate ?? _fleet.Issue(node));
        return new TlsSettings(crt, key, "", _fleet.AuthorityFile, []);
    }

    private static string Refused(TlsSettings settings) =>
        Assert.Throws<ConfigurationException>(() => NodeTls.Load(settings)).Message;

    // ---- loading -----------------------------------------------------------------------------------

    [Fact]
    public void A_PEM_certificate_with_its_key_in_a_separate_file_loads_with_the_fleet_CA()
    {
        var tls = NodeTls.Load(Pem("a"))!;

        Assert.Equal("CN=a", tls.Certificate.Subject);
        Assert.True(tls.Certificate.HasPrivateKey);
        Assert.Equal(FleetCertificates.Fingerprint(_fleet.Authority), FleetCertificates.Fingerprint(tls.Authorities.Single()));
    }

    [Fact]
    public void A_PEM_file_holding_certificate_and_key_together_loads()
    {
        var (crt, key) = _fleet.WritePem("a", _fleet.Issue("a"));
        File.AppendAllText(crt, File.ReadAllText(key));

        Assert.True(NodeTls.Load(new TlsSettings(crt, "", "", _fleet.AuthorityFile, []))!.Certificate.HasPrivateKey);
    }

    [Fact]
    public void A_PKCS12_file_loads_with_the_password_from_its_file_and_is_refused_with_a_wrong_one()
    {
        var (pfx, passwordFile) = _fleet.WritePfx("a", _fleet.Issue("a"), "right");
        Assert.True(NodeTls.Load(new TlsSettings(pfx, "", passwordFile, _fleet.AuthorityFile, []))!.Certificate.HasPrivateKey);

        File.WriteAllText(passwordFile, "wrong");
        var message = Refused(new TlsSettings(pfx, "", passwordFile, _fleet.AuthorityFile, []));
        Assert.Contains($"'{pfx}' cannot be read as PKCS#12", message);
        Assert.Contains(passwordFile, message);
    }

    [Fact]
    public void Missing_files_are_named()
    {
        var good = Pem("a");

        Assert.Contains("mesh.tls.certificate (--tls-cert) '/no/such.crt': no such file", Refused(good with { Certificate = "/no/such.crt" }));
        Assert.Contains("mesh.tls.key (--tls-key) '/no/such.key': no such file", Refused(good with { Key = "/no/such.key" }));
        Assert.Contains("mesh.tls.ca (--tls-ca) '/no/ca.crt': no such file", Refused(good with { Authority = "/no/ca.crt" }));
        Assert.Contains("mesh.tls.password-file (--tls-password-file) '/no/pass': no such file", Refused(good with { PasswordFile = "/no/pass" }));
    }

    [Fact]
    public void A_certificate_without_its_private_key_is_refused_naming_the_file()
    {
        var (crt, _) = _fleet.WritePem("a", _fleet.Issue("a"));

        var message = Refused(new TlsSettings(crt, "", "", _fleet.AuthorityFile, []));

        Assert.Contains($"'{crt}' holds no private key", message);
        Assert.Contains("--tls-key", message);
    }

    [Fact]
    public void A_key_of_another_certificate_is_refused()
    {
        var (crt, _) = _fleet.WritePem("a", _fleet.Issue("a"));
        var (_, otherKey) = _fleet.WritePem("b", _fleet.Issue("b"));

        var message = Refused(new TlsSettings(crt, otherKey, "", _fleet.AuthorityFile, []));

        Assert.Contains($"the private key in '{otherKey}' does not fit the certificate in '{crt}'", message);
    }

    [Fact]
    public void A_CA_file_that_holds_the_CA_key_is_refused()
    {
        var settings = Pem("a");
        File.AppendAllText(settings.Authority, FleetCertificates.PrivateKeyPem(_fleet.Authority));

        Assert.Contains("holds a private key", Refused(settings));
    }

    [Fact]
    public void A_node_whose_own_certificate_peers_would_refuse_does_not_start()
    {
        using var other = new TestFleet("other CA");
        Assert.Contains("every peer would refuse this node", Refused(Pem("a", other.Issue("a"))));

        var expired = _fleet.Issue("a", TimeSpan.FromHours(1), DateTimeOffset.UtcNow - TimeSpan.FromHours(3));
        Assert.Contains("the certificate expired on", Refused(Pem("a", expired)));

        var settings = Pem("a");
        var fingerprint = FleetCertificates.Fingerprint(NodeTls.Load(settings)!.Certificate);
        Assert.Contains("is revoked", Refused(settings with { Revoked = [fingerprint.ToLowerInvariant()] }));
    }

    [Fact]
    public void Tls_settings_need_a_certificate_and_a_CA_together()
    {
        TlsSettings Read(string hocon) => TlsSettings.From(ConfigurationFactory.ParseString(hocon).GetConfig("mesh"));

        Assert.False(Read("mesh { }").Enabled);
        Assert.True(Read("mesh.tls { certificate = a.crt, ca = ca.crt }").Enabled);
        Assert.Equal(["AB:cd"], Read("mesh.tls { certificate = a.crt, ca = ca.crt, revoked = [\"AB:cd\"] }").Revoked);
        Assert.Equal(Path.GetFullPath("a.crt"), Read("mesh.tls { certificate = a.crt, ca = ca.crt }").Certificate);
        Assert.Contains("mesh.tls.ca (--tls-ca) is not", Assert.Throws<ConfigurationException>(() => Read("mesh.tls.certificate = a.crt")).Message);
        Assert.Contains("mesh.tls.certificate (--tls-cert) is not", Assert.Throws<ConfigurationException>(() => Read("mesh.tls.ca = ca.crt")).Message);
    }

    [Fact]
    public void Seeds_given_as_host_and_port_take_the_scheme_of_the_node_and_a_full_address_of_the_other_is_refused()
    {
        Assert.Equal("akka.ssl.tcp://mesh@10.0.0.1:4710", NodeSettings.SeedAddress("10.0.0.1:4710", tls: true));
        Assert.Equal("akka.tcp://mesh@10.0.0.1:4710", NodeSettings.SeedAddress("10.0.0.1:4710", tls: false));
        Assert.Equal("akka.ssl.tcp://mesh@10.0.0.1:4710", NodeSettings.SeedAddress("akka.ssl.tcp://mesh@10.0.0.1:4710", tls: true));
        Assert.Contains("this node speaks TLS", Assert.Throws<ConfigurationException>(() => NodeSettings.SeedAddress("akka.tcp://mesh@10.0.0.1:4710", tls: true)).Message);
        Assert.Contains("plain TCP", Assert.Throws<ConfigurationException>(() => NodeSettings.SeedAddress("akka.ssl.tcp://mesh@10.0.0.1:4710", tls: false)).Message);
    }

    // ---- the rule for peers --------------------------------------------------------------------------

    [Fact]
    public void A_peer_is_accepted_only_with_a_current_certificate_of_the_fleet_CA_that_is_not_revoked()
    {
        var tls = NodeTls.Load(Pem("a"))!;
        var now = DateTime.UtcNow;
        using var other = new TestFleet("test fleet CA"); // same name, another key

        Assert.Null(tls.Refusal(_fleet.Issue("b"), now));
        Assert.Contains("presented no certificate", tls.Refusal(null, now));
        Assert.Contains("is not signed by the fleet CA", tls.Refusal(other.Issue("b"), now));
        Assert.Contains("is not signed by the fleet CA", tls.Refusal(FleetCertificates.CreateAuthority("b", TimeSpan.FromDays(1)), now));
        Assert.Contains("outside its validity period", tls.Refusal(_fleet.Issue("b", TimeSpan.FromHours(1), now - TimeSpan.FromHours(3)), now));

        var stolen = _fleet.Issue("b");
        var revoking = NodeTls.Load(Pem("a") with { Revoked = [string.Join(":", FleetCertificates.Fingerprint(stolen).Chunk(2).Select(c => new string(c)))] })!;
        Assert.Contains("is revoked (mesh.tls.revoked)", revoking.Refusal(stolen, now));
        Assert.Null(revoking.Refusal(_fleet.Issue("b"), now));
    }

    [Fact]
    public void During_a_CA_rotation_a_node_trusting_both_CAs_accepts_certificates_of_either()
    {
        using var next = new TestFleet("next fleet CA");
        var settings = Pem("a");
        File.AppendAllText(settings.Authority, File.ReadAllText(next.AuthorityFile));
        var tls = NodeTls.Load(settings)!;
        using var stranger = new TestFleet("stranger CA");

        Assert.Equal(2, tls.Authorities.Count);
        Assert.Null(tls.Refusal(_fleet.Issue("b"), DateTime.UtcNow));
        Assert.Null(tls.Refusal(next.Issue("c"), DateTime.UtcNow));
        Assert.NotNull(tls.Refusal(stranger.Issue("d"), DateTime.UtcNow));
    }

    public void Dispose() => _fleet.Dispose();
}
