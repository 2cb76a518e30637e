# Free-threaded interpreters (issue 14): the project's 3.13.15t build of
# Debian's source, and each free-threaded interpreter in PYMAC_EXTRA_PYTHONS
# (colon-separated paths to interpreters built by hand, e.g. upstream 3.14t;
# read when cmake configures). Each absent one is a test that skips, saying so.
# Included from CMakeLists.txt, whose variables (check, cores, ...) it uses.
set(ft_candidates "build-3.13t=/var/cache/pymac/builds/python-3.13.15t/bin/python3.13t")
if(DEFINED ENV{PYMAC_EXTRA_PYTHONS} AND NOT "$ENV{PYMAC_EXTRA_PYTHONS}" STREQUAL "")
  string(REPLACE ":" ";" ft_extra "$ENV{PYMAC_EXTRA_PYTHONS}")
  foreach(path ${ft_extra})
    execute_process(COMMAND ${path} -c
      "import sys, sysconfig; print('%d.%d' % sys.version_info[:2], sysconfig.get_config_var('Py_GIL_DISABLED'))"
      OUTPUT_VARIABLE ft_out OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE ft_rc ERROR_QUIET)
    if(ft_rc EQUAL 0 AND ft_out MATCHES "^([0-9]+\\.[0-9]+) 1$")
      list(APPEND ft_candidates "extra-${CMAKE_MATCH_1}t=${path}")
    endif()
  endforeach()
else()
  add_test(NAME interp/extra-free-threaded
           COMMAND ${PYMAC_TEST_PYTHON} ${check} --skip-missing extra-free-threaded
                   "PYMAC_EXTRA_PYTHONS (unset)" --results ${results})
  set_tests_properties(interp/extra-free-threaded PROPERTIES SKIP_RETURN_CODE 77)
endif()

set(ft_checks info stats gc census objects mimalloc whereis graph leaks_clean)
if(NOT PYMAC_SANITIZE)
  # GDB cannot dlopen an ASan-instrumented library: the GDB check runs in the
  # normal build only
  list(APPEND ft_checks gdb)
endif()
# threads: objects of an exited thread (abandoned segments) and of a live one
set(ft_scenarios ${scenarios} threads)
# planted leaks, leaks in returned frames, retention: as on the default rows
set(ft_leak_checks_leaky leaks report)
set(ft_leak_checks_deadframe leaks)
if(PYMAC_SANITIZE)
  set(ft_leak_checks_retention retention) # GDB cannot load an ASan library
else()
  set(ft_leak_checks_retention retention retention_gdb)
endif()
foreach(entry ${ft_candidates})
  string(REPLACE "=" ";" pair "${entry}")
  list(GET pair 0 label)
  list(GET pair 1 path)
  if(NOT EXISTS "${path}")
    add_test(NAME interp/${label}
             COMMAND ${PYMAC_TEST_PYTHON} ${check} --skip-missing ${label} ${path}
                     --results ${results})
    set_tests_properties(interp/${label} PROPERTIES SKIP_RETURN_CODE 77)
    continue()
  endif()
  list(APPEND ft_found_labels ${label})
  foreach(scenario ${ft_scenarios} leaky deadframe retention)
    if(scenario STREQUAL "leaky" OR scenario STREQUAL "deadframe" OR scenario STREQUAL "retention")
      set(scen_checks ${ft_leak_checks_${scenario}})
    else()
      set(scen_checks ${ft_checks})
    endif()
    foreach(kind ${kinds})
      set(name ${label}/${scenario}/${kind})
      set(dir ${cores}/${label}-${scenario}-${kind})
      add_test(NAME core/${name}
               COMMAND ${fixtures_dir}/make-core --python ${path} --scenario ${scenario}
                       --kind ${kind} --out ${dir})
      set_tests_properties(core/${name} PROPERTIES
        FIXTURES_SETUP fx/${name} SKIP_RETURN_CODE 77 TIMEOUT 600)
      foreach(what ${scen_checks})
        add_test(NAME ${what}/${name}
                 COMMAND ${PYMAC_TEST_PYTHON} ${check} --check ${what}
                         --cli $<TARGET_FILE:pymac-analyze> --dir ${dir}
                         --label ${label} --scenario ${scenario} --kind ${kind}
                         --results ${results})
        set_tests_properties(${what}/${name} PROPERTIES
          FIXTURES_REQUIRED fx/${name} SKIP_RETURN_CODE 77 TIMEOUT 300)
      endforeach()
    endforeach()
  endforeach()
  # diff and leaks --baseline on two cores of the growth scenario
  pymac_add_growth(${label} ${path})
endforeach()
