/**
 * The perl program behind FcntlLocks, run with `perl -e`. Only core perl
 * modules (Fcntl, Errno, POSIX), since perl-base is all a system with git
 * is sure to have.
 *
 * `struct flock` is packed by hand, so on start the helper proves the
 * layout: it write-locks a scratch file and a forked child asks F_GETLK who
 * holds it; only if the child sees a write lock held by its parent does the
 * helper print READY. Otherwise it exits, and every lock request fails (so
 * removals are refused, never let through).
 *
 * Protocol, one tab-separated line each way:
 *   L <id> <r|w> <hex path>  ->  K <id> (held) | B <id> (busy) | E <id> <errno> <text>
 *   U <id>                   ->  K <id>
 *   G <id> <hex path>        ->  K <id> (no other process write-locks it,
 *                                or it is missing) | B <id> (one does) | E …
 *     (a file this helper locks is answered E: see the script.)
 * End of input ends the helper, and with it every lock.
 */
export const HELPER_SCRIPT = String.raw`
use strict;
use warnings;
use Fcntl qw(F_SETLK F_GETLK F_RDLCK F_WRLCK F_UNLCK O_RDONLY O_RDWR O_CREAT O_EXCL SEEK_SET);
use Errno qw(EAGAIN EACCES ENOENT);
use POSIX ();
$| = 1;

my ($layout, $darwin);
if ($^O eq 'linux') { $layout = 's s x4 q q l x4'; $darwin = 0; }
elsif ($^O eq 'darwin') { $layout = 'q q l s s'; $darwin = 1; }
else { die "fcntl lock layout unknown on $^O\n"; }

sub flk {
  my ($type) = @_;
  return $darwin ? pack($layout, 0, 0, 0, $type, SEEK_SET)
                 : pack($layout, $type, SEEK_SET, 0, 0, 0);
}
sub flk_type_pid {
  my @f = unpack($layout, $_[0]);
  return $darwin ? ($f[3], $f[2]) : ($f[0], $f[4]);
}

sub selftest {
  my $dir = $ENV{TMPDIR} || '/tmp';
  my $path = "$dir/annexgate-fcntl-selftest-$$";
  sysopen(my $fh, $path, O_RDWR | O_CREAT | O_EXCL, 0600) or die "self-test: cannot create a scratch file: $!\n";
  unlink $path;
  fcntl($fh, F_SETLK, flk(F_WRLCK)) or die "self-test: cannot lock: $!\n";
  my $parent = $$;
  my $pid = fork();
  die "self-test: cannot fork: $!\n" unless defined $pid;
  if ($pid == 0) {
    my $q = flk(F_WRLCK);
    my $ok = fcntl($fh, F_GETLK, $q);
    my ($type, $holder) = flk_type_pid($q);
    POSIX::_exit(($ok && $type == F_WRLCK && $holder == $parent) ? 0 : 1);
  }
  waitpid($pid, 0);
  die "self-test: struct flock layout does not match this system\n" if $? != 0;
  close $fh;
}

selftest();
print "READY\n";

my %held;
# "dev:ino" of each file locked here (how many locks), and each lock's.
my %locked;
my %file_of;
my @never_closed;
while (my $line = <STDIN>) {
  chomp $line;
  my @f = split /\t/, $line;
  my $cmd = $f[0] // '';
  my $id = $f[1] // 0;
  if ($cmd eq 'L') {
    my $write = ($f[2] // '') eq 'w';
    my $path = pack('H*', $f[3] // '');
    my $fh;
    unless (sysopen($fh, $path, ($write ? O_RDWR : O_RDONLY) | O_CREAT, 0644)) {
      print "E\t$id\t" . ($! + 0) . "\t$!\n";
      next;
    }
    unless (fcntl($fh, F_SETLK, flk($write ? F_WRLCK : F_RDLCK))) {
      my ($errno, $text) = ($! + 0, "$!");
      close $fh;
      if ($errno == EAGAIN || $errno == EACCES) { print "B\t$id\n"; }
      else { print "E\t$id\t$errno\t$text\n"; }
      next;
    }
    my @named = stat($path);
    my @opened = stat($fh);
    if (!@named || $named[0] != $opened[0] || $named[1] != $opened[1]) {
      close $fh;
      print "B\t$id\n";
      next;
    }
    $held{$id} = $fh;
    $file_of{$id} = "$opened[0]:$opened[1]";
    $locked{$file_of{$id}}++;
    print "K\t$id\n";
  } elsif ($cmd eq 'G') {
    # Write-locked by another process? Asked for a read lock, F_GETLK
    # reports only a conflicting write lock. Closing a descriptor drops
    # every lock this process holds on that file, so a file locked here is
    # refused (F_GETLK would not see this process's own lock anyway), and
    # a descriptor that turns out to be of one is never closed.
    my $path = pack('H*', $f[2] // '');
    my @named = stat($path);
    unless (@named) {
      if ($! == ENOENT) { print "K\t$id\n"; } else { print "E\t$id\t" . ($! + 0) . "\t$!\n"; }
      next;
    }
    if ($locked{"$named[0]:$named[1]"}) { print "E\t$id\t0\tthis process locks that file\n"; next; }
    my $fh;
    unless (sysopen($fh, $path, O_RDONLY)) {
      if ($! == ENOENT) { print "K\t$id\n"; } else { print "E\t$id\t" . ($! + 0) . "\t$!\n"; }
      next;
    }
    my @opened = stat($fh);
    if ($locked{"$opened[0]:$opened[1]"}) {
      push @never_closed, $fh;
      print "E\t$id\t0\tthis process locks that file\n";
      next;
    }
    my $q = flk(F_RDLCK);
    my $ok = fcntl($fh, F_GETLK, $q);
    my ($errno, $text) = ($! + 0, "$!");
    close $fh;
    unless ($ok) { print "E\t$id\t$errno\t$text\n"; next; }
    my ($type) = flk_type_pid($q);
    print(($type == F_UNLCK ? "K" : "B") . "\t$id\n");
  } elsif ($cmd eq 'U') {
    my $fh = delete $held{$id};
    close $fh if defined $fh;
    my $file = delete $file_of{$id};
    delete $locked{$file} if defined $file && --$locked{$file} <= 0;
    print "K\t$id\n";
  } else {
    print "E\t$id\t0\tunknown request\n";
  }
}
`;
