package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The broker version and its classpath, as .ci/real-kafka resolves them:
// pom.xml is a byte-for-byte copy of .ci/real-kafka.d/pom.xml
// (TestPomIsTheCIScriptsPom), so both find one cache, fingerprinted alike.
const (
	KafkaVersion     = "4.4.0"
	log4jVersion     = "2.25.5"
	dependencyPlugin = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
)

//go:embed pom.xml
var pom []byte

// CacheDir is where the jars are cached: the same directory as
// .ci/real-kafka's (REAL_KAFKA_HOME overrides both).
func CacheDir(getenv func(string) string) string {
	if d := getenv("REAL_KAFKA_HOME"); d != "" {
		return d
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".cache", "kafka-delivery-lab", "kafka-"+KafkaVersion)
}

// fingerprint is what the cached classpath was resolved from, computed as
// .ci/real-kafka's lib_fingerprint does.
func fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", KafkaVersion, log4jVersion)
	h.Write(pom)
	return hex.EncodeToString(h.Sum(nil))
}

// resolveJars returns the directory of the broker's jars, fetching them
// with mvn from Maven Central the first time (~45 MB). It holds the cache's
// lock, as the script does, so a CI script and the app never resolve into
// one directory at once.
func resolveJars(ctx context.Context, cache, mvn string, progress io.Writer) (string, error) {
	libs := filepath.Join(cache, "libs")
	marker := filepath.Join(cache, "libs.complete")
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == fingerprint() {
		return libs, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(cache, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing unlocks too
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == fingerprint() {
		return libs, nil // resolved by whoever held the lock
	}
	if _, err := exec.LookPath(mvn); err != nil {
		return "", fmt.Errorf("the Kafka %s jars are not cached in %s and Maven (%q) is not installed: install Maven once to fetch them from Maven Central", KafkaVersion, libs, mvn)
	}
	fmt.Fprintf(progress, "cluster: fetching the Apache Kafka %s jars from Maven Central into %s (about 45 MB, first start only)...\n", KafkaVersion, libs)
	t0 := time.Now()
	build, err := os.MkdirTemp(cache, ".resolve.")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(build)
	if err := os.WriteFile(filepath.Join(build, "pom.xml"), pom, 0o644); err != nil {
		return "", err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, mvn, "-B", "-ntp", "-q", "-f", "pom.xml", dependencyPlugin+":copy-dependencies",
		"-Dkafka.version="+KafkaVersion, "-Dlog4j.version="+log4jVersion,
		"-DincludeScope=runtime", "-DoutputDirectory="+filepath.Join(build, "libs"))
	cmd.Dir, cmd.Stdout, cmd.Stderr = build, &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("maven could not fetch org.apache.kafka:kafka_2.13:%s (%w): %s", KafkaVersion, err, tail(out.String(), 2000))
	}
	if _, err := os.Stat(filepath.Join(build, "libs", "kafka_2.13-"+KafkaVersion+".jar")); err != nil {
		return "", errors.New("maven ran, and kafka_2.13-" + KafkaVersion + ".jar is missing from what it fetched")
	}
	if err := os.RemoveAll(libs); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(build, "libs"), libs); err != nil {
		return "", err
	}
	if err := os.WriteFile(marker, []byte(fingerprint()+"\n"), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "cluster: jars cached in %.1f s\n", time.Since(t0).Seconds())
	return libs, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
