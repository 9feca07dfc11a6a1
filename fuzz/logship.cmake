# Fuzz targets for stopgap logship's parsers of outside input: dateext file
# names (names in a log dir and object keys from a store), S3's XML answers and
# Swift's JSON answers (listings, Keystone token catalogs, file:// metadata
# sidecars), object keys of both layouts, and object metadata headers.
# Seeds: fuzz/corpus/logship_dateext/, logship_s3xml/, logship_swift_json/,
# logship_object_key/ (object keys `logship get` turns into paths),
# logship_object_meta/ (HEAD answers' header lines).
if(TARGET stopgap_logship)
  stopgap_fuzz_target(logship_dateext SOURCES ${CMAKE_SOURCE_DIR}/tests/logship/dateext_fuzz.cc
                      LIBS stopgap_logship)
  stopgap_fuzz_target(logship_s3xml SOURCES ${CMAKE_SOURCE_DIR}/tests/logship/s3_xml_fuzz.cc
                      LIBS stopgap_logship)
  stopgap_fuzz_target(logship_swift_json SOURCES
                      ${CMAKE_SOURCE_DIR}/tests/logship/swift_json_fuzz.cc LIBS stopgap_logship)
  stopgap_fuzz_target(logship_object_key SOURCES
                      ${CMAKE_SOURCE_DIR}/tests/logship/object_key_fuzz.cc LIBS stopgap_logship)
  stopgap_fuzz_target(logship_object_meta SOURCES
                      ${CMAKE_SOURCE_DIR}/tests/logship/object_meta_fuzz.cc LIBS stopgap_logship)
endif()
