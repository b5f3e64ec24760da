using System.Text;
using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>The <c>service</c> kind: its fields, their defaults, their validation and its canonical form.</summary>
public sealed class ServiceResourceTests
{
    private static ServiceResource OnlyService(string yaml) => (ServiceResource)Assert.Single(Parse(yaml).Resources);

    private static void AssertServiceError(string flow, string field, string at, string says) =>
        AssertResourceError(flow, $"resources[0] (web).{field}", at, says);

    private const string Full = """
        manifest: web
        resources:
          - id: web
            type: service
            name: web-app
            ensure: stopped
            enabled: true
            run: |
              cd /srv/app
              exec ./server --port 8080
        """;

    [Fact]
    public void Every_field_is_read()
    {
        var s = OnlyService(Full);

        Assert.Equal(("web", "service", "web-app", ServiceState.Stopped, (bool?)true), (s.Id, s.Kind, s.Name, s.Ensure, s.Enabled));
        Assert.Equal("cd /srv/app\nexec ./server --port 8080", s.Run);
    }

    [Fact]
    public void A_service_runs_by_default_and_leaves_boot_and_its_definition_alone()
    {
        var s = OnlyService(OneResource("{id: web, type: service, name: nginx}"));

        Assert.Equal(ServiceState.Running, s.Ensure);
        Assert.Null(s.Enabled);
        Assert.Null(s.Run);
        Assert.Null(s.ManagedPath);
    }

    [Fact]
    public void Enabled_false_is_kept_apart_from_enabled_not_given() =>
        Assert.False(OnlyService(OneResource("{id: web, type: service, name: nginx, enabled: no}")).Enabled);

    [Fact]
    public void A_service_without_a_name_is_reported_at_the_resource() =>
        AssertServiceError("{id: web, type: service}", "name", "{", "is required");

    [Theory]
    [InlineData("-web")]
    [InlineData(".web")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("web app")]
    [InlineData("''")]
    public void A_name_that_could_leave_the_service_directory_or_read_as_an_option_is_refused(string name) =>
        AssertServiceError($"{{id: web, type: service, name: {name}}}", "name", name, "is not a service name");

    [Theory]
    [InlineData("nginx")]
    [InlineData("nginx.service")]
    [InlineData("getty@tty1.service")]
    [InlineData("my_app-2")]
    public void Unit_and_service_directory_names_are_accepted(string name) =>
        Assert.Equal(name, OnlyService(OneResource($"{{id: web, type: service, name: '{name}'}}")).Name);

    [Fact]
    public void Ensure_is_running_or_stopped() =>
        AssertServiceError("{id: web, type: service, name: nginx, ensure: present}", "ensure", "present", "'present' is not one of: running, stopped");

    [Fact]
    public void Enabled_must_be_a_boolean() =>
        AssertServiceError("{id: web, type: service, name: nginx, enabled: maybe}", "enabled", "maybe", "'maybe' is not a boolean");

    [Fact]
    public void An_empty_run_is_refused() =>
        AssertServiceError("{id: web, type: service, name: nginx, run: ' '}", "run", "' '", "is empty");

    [Fact]
    public void An_unknown_field_lists_the_fields_of_a_service()
    {
        const string Flow = "{id: web, type: service, name: nginx, path: /x}";
        AssertServiceError(Flow, "path", "path", "unknown field");
        Assert.Contains("enabled, ensure, id, name, notify, requires, run, subscribe, type", OnlyErrorIn(OneResource(Flow)).Message);
    }

    [Fact]
    public void Several_errors_of_one_service_are_all_reported_on_their_lines()
    {
        var errors = ErrorsIn("""
            manifest: web
            resources:
              - id: web
                type: service
                name: -web
                ensure: up
                enabled: sometimes
            """);

        Assert.Equal(
            [(5, "resources[0] (web).name"), (6, "resources[0] (web).ensure"), (7, "resources[0] (web).enabled")],
            errors.Select(e => (e.Line, e.Field)));
    }

    [Fact]
    public void The_run_script_a_service_defines_cannot_also_be_managed_by_a_file()
    {
        var error = OnlyErrorIn("""
            manifest: web
            resources:
              - { id: script, type: file, path: /etc/sv/web/run, content: x }
              - { id: web, type: service, name: web, run: exec sleep 1000 }
            """);

        Assert.Equal(4, error.Line);
        Assert.Contains("'/etc/sv/web/run' is already managed by 'script'", error.Message);
    }

    [Theory]
    [InlineData(Full)]
    [InlineData("manifest: web\nresources:\n  - {id: web, type: service, name: nginx}\n")]
    [InlineData("manifest: web\nresources:\n  - {id: web, type: service, name: nginx, enabled: false, run: \"exec nginx -g 'daemon off;'\"}\n")]
    public void The_canonical_form_parses_back_to_the_same_bytes(string yaml)
    {
        var bytes = CanonicalForm.ToBytes(ManifestParser.Parse(yaml, "x.yaml"));

        var again = CanonicalForm.ToBytes(ManifestParser.Parse(Encoding.UTF8.GetString(bytes), "x.yaml"));

        Assert.Equal(bytes, again);
        AssertSameResource(Parse(yaml).Resources[0], CanonicalForm.FromBytes(bytes, "canonical").Resources[0]);
    }

    [Fact]
    public void The_canonical_form_leaves_defaults_out()
    {
        var json = Encoding.UTF8.GetString(CanonicalForm.ToBytes(Parse(OneResource("{id: web, type: service, name: nginx, ensure: running}"))));

        Assert.Contains("""{"id":"web","name":"nginx","type":"service"}""", json);
    }

    [Fact]
    public void Writing_a_default_out_or_leaving_it_implied_means_the_same_manifest() =>
        Assert.Equal(
            CanonicalForm.ToBytes(Parse(OneResource("{id: web, type: service, name: nginx}"))),
            CanonicalForm.ToBytes(Parse(OneResource("{id: web, type: service, name: nginx, ensure: running}"))));
}
