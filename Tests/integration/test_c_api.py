"""The C interface as a C programmer meets it: the installed header, -ldenoise alone."""
import re
import resource
import subprocess

from conftest import ROOT, run


def test_c_program_links_with_ldenoise_and_passes(prefix, tmp_path):
    exe = tmp_path / "api_test"
    r = run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{prefix}/include", str(ROOT / "Tests/C/api_test.c"),
             f"-L{prefix}/lib", "-ldenoise", "-lm", f"-Wl,-rpath,{prefix}/lib", "-o", str(exe)])
    assert r.returncode == 0, r.stderr
    r = run([str(exe)], env={"DENOISE_TEST_WEIGHTS": str(ROOT / "Tests/Fixtures/mprnet/weights.safetensors")})
    print(r.stdout)
    assert r.returncode == 0 and " 0 failed" in r.stdout, r.stdout


def test_concurrent_calls_match_calls_made_alone(prefix, tmp_path):
    """Eight threads at once, each with its own threads/precision/model settings, one shared
    network: every result equals the call made alone, and each thread keeps its own last error."""
    exe = tmp_path / "stress_test"
    r = run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", f"-I{prefix}/include",
             str(ROOT / "Tests/C/stress_test.c"), f"-L{prefix}/lib", "-ldenoise", "-lm", f"-Wl,-rpath,{prefix}/lib",
             "-o", str(exe)])
    assert r.returncode == 0, r.stderr
    r = run([str(exe), str(ROOT / "Tests/Fixtures/mprnet/weights.safetensors"), "10"])
    print(r.stdout)
    assert r.returncode == 0 and " 0 failed" in r.stdout, r.stdout + r.stderr


def test_out_of_memory_is_an_error_not_a_crash(prefix, tmp_path):
    """Under a 3 GB address-space limit, an 8192 x 8192 photo (valid, but whose working memory
    cannot be had) gives DN_ERROR_OUT_OF_MEMORY from every image function and the output is kept."""
    exe = tmp_path / "memory_test"
    r = run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{prefix}/include", str(ROOT / "Tests/C/memory_test.c"),
             f"-L{prefix}/lib", "-ldenoise", f"-Wl,-rpath,{prefix}/lib", "-o", str(exe)])
    assert r.returncode == 0, r.stderr
    limit = 3 << 30
    r = run([str(exe), str(ROOT / "Tests/Fixtures/mprnet/weights.safetensors")],
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    print(r.stdout)
    assert r.returncode == 0 and " 0 failed" in r.stdout, r.stdout + r.stderr


def test_pkg_config(prefix):
    env = {"PKG_CONFIG_PATH": f"{prefix}/lib/pkgconfig", "PATH": "/usr/bin:/bin"}
    r = run(["pkg-config", "--cflags", "--libs", "denoise"], env=env)
    assert r.returncode == 0 and "-ldenoise" in r.stdout and f"-I{prefix}/include" in r.stdout


def exported(lib):
    out = subprocess.check_output(["nm", "-D", "--defined-only", "--extern-only", str(lib)], text=True)
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def test_only_dn_symbols_are_exported_and_match_the_header(prefix):
    symbols = exported(prefix / "lib" / "libdenoise.so")
    header = (ROOT / "CHeaders" / "denoise.h").read_text()
    declared = set(re.findall(r"\b(dn_\w+)\s*\(", header)) - {"dn_progress_fn"}
    assert symbols == declared, f"exported but not declared: {symbols - declared}; declared but missing: {declared - symbols}"


def test_library_needs_no_swift_runtime(prefix):
    needed = subprocess.check_output(["readelf", "-d", str(prefix / "lib" / "libdenoise.so")], text=True)
    libs = re.findall(r"Shared library: \[(.+?)\]", needed)
    assert not [l for l in libs if "swift" in l.lower() or "dispatch" in l.lower()], libs
    assert "libdenoise.so.1" in needed  # SONAME
