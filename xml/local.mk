# xml/: annotation schema and the domain XML library (libxml2).
